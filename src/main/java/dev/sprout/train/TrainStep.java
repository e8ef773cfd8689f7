package dev.sprout.train;

import dev.sprout.data.BatchSampler;
import dev.sprout.dist.Collectives;
import dev.sprout.tensor.Autocast;
import dev.sprout.model.SliceLeaves;
import dev.sprout.tensor.Tensors;
import dev.sprout.model.Transformer;
import dev.sprout.optim.AdamW;
import dev.sprout.subnet.SubnetPlan;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * One optimizer step: forward and backward of the plan on each micro-batch, the gradients averaged over the ranks of a
 * data-parallel job, global-norm clipping, AdamW. Everything native the step allocates is freed by its PointerScope.
 * Shared by `train` and `bench`.
 */
public final class TrainStep {
    /** Mean micro-batch loss (this rank's) and the gradient norm before clipping (of the job's averaged gradient). */
    public record Result(double loss, double gradNorm) {}

    private final Transformer model;
    private final AdamW optimizer;
    private final int accum;
    private final int batch;
    private final int context;
    private final double clip;
    private final long[] x;
    private final long[] y;

    private final boolean maskedSlices;
    private final Collectives dist;
    private final int world;
    private final Map<String, Integer> owners;
    private final String precision;

    /** @param maskedSlices update only the heads' and neurons' slices that ran (else whole tensors, plain AdamW) */
    public TrainStep(Transformer model, AdamW optimizer, int accum, int batch, int context, double clip, boolean maskedSlices) {
        this(model, optimizer, accum, batch, context, clip, maskedSlices, "fp32");
    }

    /** @param precision fp32, or bf16: each micro-batch's forward and backward under bfloat16 autocast ({@link Autocast}) */
    public TrainStep(Transformer model, AdamW optimizer, int accum, int batch, int context, double clip, boolean maskedSlices, String precision) {
        this(model, optimizer, accum, batch, context, clip, maskedSlices, precision, Collectives.single(), null);
    }

    /**
     * The same step as one rank of a data-parallel job ({@code dist}).
     *
     * @param owners with a sharded optimizer, the rank that updates each parameter (it then broadcasts it to the others);
     *               null when every rank updates every parameter
     */
    public TrainStep(Transformer model, AdamW optimizer, int accum, int batch, int context, double clip, boolean maskedSlices, String precision,
                     Collectives dist, Map<String, Integer> owners) {
        Autocast.of(precision, model.device()).close(); // an unknown precision fails here, not mid-run
        this.precision = precision;
        this.maskedSlices = maskedSlices;
        this.owners = owners;
        this.dist = dist;
        this.world = dist.env().worldSize();
        this.model = model;
        this.optimizer = optimizer;
        this.accum = accum;
        this.batch = batch;
        this.context = context;
        this.clip = clip;
        this.x = new long[batch * context];
        this.y = new long[batch * context];
    }

    public Result run(SubnetPlan plan, double lr, BatchSampler sampler) {
        return run(plan, lr, sampler, () -> {});
    }

    /** @param beforeUpdate runs after clipping, before AdamW (the method's hook; its native temporaries die with the step) */
    public Result run(SubnetPlan plan, double lr, BatchSampler sampler, Runnable beforeUpdate) {
        double lossSum = 0, norm;
        try (PointerScope scope = new PointerScope()) {
            // masked: sampled heads and neurons run from gathered leaves, so only their slices get gradients
            SliceLeaves leaves = maskedSlices ? new SliceLeaves() : null;
            for (int micro = 0; micro < accum; micro++) {
                // a micro-batch's activations die with it: with the step's scope alone, every forward's tensors would live to
                // the step's end, and memory would grow with grad_accum
                try (PointerScope microScope = new PointerScope(); Autocast ac = Autocast.of(precision, model.device())) {
                    sampler.next(x, y);
                    Tensor xi = Tensors.longTensor(x, model.device(), batch, context);
                    Tensor yi = Tensors.longTensor(y, model.device(), batch, context);
                    // each micro-batch's share of the job's mean: summing over the ranks then gives the mean gradient, with the
                    // same roundings as one process accumulating all the job's micro-batches (scaling by 1/2^k is exact)
                    lossSum += model.lossAndBackward(xi, yi, plan, leaves, 1.0 / (accum * (double) world), Transformer.LOGIT_CHUNK_ELEMENTS);
                }
            }
            Map<String, Tensor> sliceGrads = leaves == null ? Map.of() : leaves.grads();
            if (world > 1) sumOverRanks(sliceGrads.values());
            norm = clipGradients(clip, sliceGrads.values());
            beforeUpdate.run();
            Map<String, dev.sprout.tensor.Slice> slices = maskedSlices ? model.slices(plan) : Map.of();
            optimizer.step(lr, slices, sliceGrads);
            if (owners != null) shareUpdates(slices);
            optimizer.zeroGrad();
        }
        return new Result(lossSum / accum, norm);
    }

    /**
     * With a sharded optimizer each rank updated only the parameters it owns: every parameter this step updated (it has a
     * gradient, or a slice of it ran) goes from its owner to the other ranks, one bucketed broadcast per owner.
     */
    private void shareUpdates(Map<String, dev.sprout.tensor.Slice> slices) {
        List<List<Tensor>> byOwner = new ArrayList<>();
        for (int r = 0; r < world; r++) byOwner.add(new ArrayList<>());
        for (var e : model.trainableParameters().entrySet()) {
            if (e.getValue().grad().defined() || slices.containsKey(e.getKey())) byOwner.get(owners.get(e.getKey())).add(e.getValue());
        }
        try (NoGradGuard ng = new NoGradGuard()) {
            for (int r = 0; r < world; r++) if (!byOwner.get(r).isEmpty()) dist.broadcast(byOwner.get(r), r);
        }
    }

    /**
     * Sums this step's gradients over the ranks, making each rank's share the job's mean: exactly what the plan produced
     * (the slice leaves of sampled heads and neurons, and the parameters that have a gradient), in a fixed order that
     * every rank shares because every rank runs the same plan. Parameters a plan skipped have no gradient and send nothing.
     */
    private void sumOverRanks(Collection<Tensor> sliceGrads) {
        List<Tensor> grads = new ArrayList<>(sliceGrads);
        for (Tensor p : model.parameters().values()) {
            Tensor g = p.grad();
            if (g.defined()) grads.add(g);
        }
        dist.sum(grads);
    }

    /**
     * Scales all gradients (the parameters' and the slice leaves') so their global L2 norm is at most maxNorm (0 = off);
     * returns the norm before clipping.
     */
    private double clipGradients(double maxNorm, Collection<Tensor> sliceGrads) {
        List<Tensor> grads = new ArrayList<>(sliceGrads);
        for (Tensor p : model.parameters().values()) {
            Tensor g = p.grad();
            if (g.defined()) grads.add(g);
        }
        if (grads.isEmpty()) return 0;
        try (NoGradGuard ng = new NoGradGuard()) {
            double sq = 0;
            for (Tensor g : grads) {
                double n = g.norm().item_double(); // one pass, no temporary; the item() sync is free on CPU
                sq += n * n;
            }
            double norm = Math.sqrt(sq);
            if (maxNorm > 0 && norm > maxNorm) {
                Scalar coef = new Scalar(maxNorm / (norm + 1e-6));
                for (Tensor g : grads) g.mul_(coef);
            }
            return norm;
        }
    }
}
