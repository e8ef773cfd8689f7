package dev.sprout.train;

import dev.sprout.config.SproutConfig;
import dev.sprout.data.BatchSampler;
import dev.sprout.dist.Collectives;
import dev.sprout.method.Methods;
import dev.sprout.method.TrainingMethod;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.subnet.SubnetPlan;
import org.bytedeco.pytorch.Device;

/**
 * A model trained by a config's method: the model with the method's setup applied (adapters, pools), the AdamW over what
 * it trains, and one step in the trainer's order (the method's growth events, its plan, its learning-rate factor, the
 * forward and backward, its pre-update hook, the update). The trainer and {@code sprout bench} both step through this,
 * so a benchmark times exactly what training runs.
 */
public final class MethodTraining {
    public final Transformer model;
    public final TrainingMethod method;
    public final AdamW optimizer;
    /** The rank that keeps each parameter's optimizer state when it is sharded (dist.shard_optimizer), else null. */
    public final java.util.Map<String, Integer> owners;
    private final BlockSurgery surgery;
    private final TrainStep stepper;
    private final FlopsAccountant accountant;
    private final long sequencesPerStep;
    private final int context;

    /** Builds the model (from {@code init}'s weights when given, before the method's setup) and its optimizer, in one process. */
    public MethodTraining(SproutConfig cfg, Device device, RunWeights init) {
        this(cfg, device, init, Collectives.single());
    }

    /**
     * The same as one rank of a data-parallel job: each step's gradients are averaged over the ranks before clipping, and
     * a step's FLOPs are the whole job's.
     */
    public MethodTraining(SproutConfig cfg, Device device, RunWeights init, Collectives dist) {
        this.model = new Transformer(cfg.model(), device, cfg.seed());
        if (init != null) init.copyInto(model, "--init-from"); // before the method's setup: adapters then start from these weights
        this.method = Methods.build(cfg);
        method.setup(model);
        int world = dist.env().worldSize(), rank = dist.env().rank();
        this.owners = cfg.dist().shardOptimizer() && world > 1 ? OptimizerShards.assign(model.trainableParameters(), world) : null;
        this.optimizer = new AdamW(model.trainableParameters(), model.sliceAxes(), model.adapterParameters(),
                owners == null ? name -> true : name -> owners.get(name) == rank, cfg.optim());
        method.setupOptimizer(optimizer);
        this.accountant = new FlopsAccountant(cfg.model(), cfg.flops().bwdOverFwd(), adapterRank(model));
        this.stepper = new TrainStep(model, optimizer, cfg.train().gradAccum(), cfg.train().batchSize(), cfg.model().context(), cfg.optim().gradClip(),
                cfg.method().optimizerSlices().equals("masked"), cfg.train().precision(), dist, owners);
        this.surgery = new BlockSurgery(model, optimizer);
        this.sequencesPerStep = (long) dist.env().worldSize() * cfg.train().gradAccum() * cfg.train().batchSize();
        this.context = cfg.model().context();
    }

    /** What one step ran: its plan (for the FLOPs accountant), its learning rate and its result. */
    public record Step(SubnetPlan plan, double lr, TrainStep.Result result) {}

    /** Optimizer step {@code step} (0-based) at the schedule's learning rate {@code scheduledLr}. */
    public Step step(long step, double scheduledLr, BatchSampler sampler) {
        method.beforeStep(step, surgery);
        SubnetPlan plan = method.plan(step);
        double lr = scheduledLr * method.lrFactor(step);
        TrainStep.Result r = stepper.run(plan, lr, sampler, () -> method.beforeUpdate(step, surgery));
        return new Step(plan, lr, r);
    }

    /**
     * Frees the native memory of the model, its optimizer state and the method's tensors (candidate pools) now, asks the
     * collector for any temporary handle still pointing at them, and has malloc return the freed heap to the system: a
     * run that has finished must not hold its memory while the next run of a comparison trains.
     */
    public void release() {
        method.tensors().values().forEach(org.bytedeco.pytorch.Tensor::deallocate);
        optimizer.release();
        model.release();
        System.gc();
        org.bytedeco.javacpp.Pointer.trimMemory(); // malloc_trim: tensors below the mmap threshold live on the heap
    }

    /** The FLOPs a step with this plan costs. */
    public FlopsAccountant.Breakdown flops(SubnetPlan plan) {
        return accountant.train(plan, sequencesPerStep, context);
    }

    /** The same step's cost under the incremental-training paper's model ({@link FlopsAccountant#paperModel}). */
    public double paperFlops(SubnetPlan plan) {
        return accountant.paperModel(plan, sequencesPerStep, context);
    }

    /** The rank of the model's adapters (0: none); the accountant assumes one rank on every block linear. */
    private static int adapterRank(Transformer model) {
        var ranks = model.adapters().values().stream().map(Transformer.Adapter::rank).distinct().toList();
        if (ranks.size() > 1) throw new IllegalStateException("adapters of different ranks " + ranks);
        if (!ranks.isEmpty() && model.adapters().size() != model.blockLinears().size()) {
            throw new IllegalStateException("adapters on " + model.adapters().size() + " of " + model.blockLinears().size() + " block linears");
        }
        return ranks.isEmpty() ? 0 : ranks.get(0);
    }
}
