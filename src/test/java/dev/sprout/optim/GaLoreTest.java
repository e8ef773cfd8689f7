package dev.sprout.optim;

import dev.sprout.tensor.Slice;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sprout.config.OptimConfig;
import dev.sprout.tensor.Tensors;
import dev.sprout.train.CheckpointException;
import dev.sprout.train.Checkpoints;
import dev.sprout.train.OptimizerCheckpoint;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GaLore in AdamW, checked against an independent double-precision implementation (Jacobi eigenvectors, no libtorch). */
class GaLoreTest {
    private static final double LR = 0.05, B1 = 0.9, B2 = 0.999, EPS = 1e-8, WD = 0.1;
    private static final OptimConfig CFG = new OptimConfig(LR, 0, 0, "constant", B1, B2, EPS, WD, 0, 0);

    @Test
    void projectedUpdateMatchesADirectComputationInBothOrientations() {
        Random rnd = new Random(7);
        Map<String, Tensor> params = new LinkedHashMap<>();
        Map<String, Reference> refs = new LinkedHashMap<>();
        for (int[] shape : new int[][]{{6, 10}, {10, 6}}) {
            String name = shape[0] + "x" + shape[1];
            float[][] w = gaussian(rnd, shape[0], shape[1]);
            params.put(name, tensor(w).set_requires_grad(true));
            refs.put(name, new Reference(w, 2, 2, AdamW.DEFAULT_GALORE_SCALE));
        }
        AdamW opt = new AdamW(params, CFG);
        for (String name : params.keySet()) opt.project(name, 2, 2, AdamW.DEFAULT_GALORE_SCALE);
        assertTrue(opt.states().get("6x10").projection.left(), "m <= n projects on the left");
        assertFalse(opt.states().get("10x6").projection.left(), "m > n projects on the right");

        for (int step = 1; step <= 3; step++) {
            for (String name : params.keySet()) {
                Tensor p = params.get(name);
                float[][] g = gaussian(rnd, (int) p.size(0), (int) p.size(1));
                p.mutable_grad().put(tensor(g));
                refs.get(name).step(g);
            }
            opt.step(LR);
            opt.zeroGrad();
            for (String name : params.keySet()) {
                float[] got = Tensors.toFloats(params.get(name));
                double[][] want = refs.get(name).w;
                int cols = want[0].length;
                for (int i = 0; i < got.length; i++) {
                    double expected = want[i / cols][i % cols];
                    assertEquals(expected, got[i], 1e-5 * Math.max(1, Math.abs(expected)), name + "[" + i + "] after step " + step);
                }
            }
        }
        assertEquals(3, opt.states().get("6x10").steps[0]);
    }

    @Test
    void projectionIsRefreshedAtCountsOneAndEveryTAfter() {
        int every = 3;
        for (boolean left : new boolean[]{true, false}) {
            Tensor p = left ? torch.zeros(6, 10) : torch.zeros(10, 6);
            AdamW opt = new AdamW(Map.of("w", p.set_requires_grad(true)), CFG);
            opt.project("w", 2, every, AdamW.DEFAULT_GALORE_SCALE);
            int refreshedAt = 0;
            for (int count = 1; count <= 7; count++) {
                // the dominant directions move every step: singular values 5 and 2 along e_a and e_b on the projected side
                int a = count % 6, b = (count + 3) % 6;
                float[][] g = left ? new float[6][10] : new float[10][6];
                if (left) {
                    g[a][0] = 5;
                    g[b][1] = 2;
                } else {
                    g[0][a] = 5;
                    g[1][b] = 2;
                }
                p.mutable_grad().put(tensor(g));
                opt.step(LR);
                opt.zeroGrad();
                if ((count - 1) % every == 0) refreshedAt = count;
                int ra = refreshedAt % 6, rb = (refreshedAt + 3) % 6;
                float[] basis = Tensors.toFloats(opt.states().get("w").projection.matrix());
                float[] want = new float[6 * 2];
                want[ra * 2] = 1;
                want[rb * 2 + 1] = 1;
                assertArrayEquals(want, basis, 1e-6f, (left ? "P" : "Q") + " after update " + count + " must come from the gradient of update " + refreshedAt);
            }
        }
    }

    @Test
    void momentsAreKeptAcrossAProjectionChange() {
        Random rnd = new Random(11);
        Tensor p = tensor(gaussian(rnd, 6, 10)).set_requires_grad(true);
        AdamW opt = new AdamW(Map.of("w", p), CFG);
        opt.project("w", 2, 2, AdamW.DEFAULT_GALORE_SCALE);
        AdamW.State st = opt.states().get("w");
        for (int step = 0; step < 2; step++) {
            p.mutable_grad().put(tensor(gaussian(rnd, 6, 10)));
            opt.step(LR);
            opt.zeroGrad();
        }
        float[] m0 = Tensors.toFloats(st.m), v0 = Tensors.toFloats(st.v), p0 = Tensors.toFloats(st.projection.matrix());
        assertTrue(Arrays.stream(toDoubles(m0)).map(Math::abs).max().orElse(0) > 0.1, "the moments are not trivially zero");

        float[][] g = gaussian(rnd, 6, 10);
        p.mutable_grad().put(tensor(g));
        opt.step(LR);
        float[] p1 = Tensors.toFloats(st.projection.matrix());
        assertFalse(Arrays.equals(p0, p1), "update 3 = T + 1 computes a new basis");
        double[][] r = matmul(transpose(reshape(p1, 6, 2)), toDoubles(g));
        float[] m1 = Tensors.toFloats(st.m), v1 = Tensors.toFloats(st.v);
        for (int i = 0; i < m1.length; i++) {
            double ri = r[i / 10][i % 10];
            assertEquals(B1 * m0[i] + (1 - B1) * ri, m1[i], 1e-5, "m[" + i + "] continues from the old moment");
            assertEquals(B2 * v0[i] + (1 - B2) * ri * ri, v1[i], 1e-5, "v[" + i + "] continues from the old moment");
        }
    }

    @Test
    void stateBytesCountProjectedMomentsAndTheBasis() {
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("wide", torch.zeros(6, 10).set_requires_grad(true));
        params.put("tall", torch.zeros(10, 6).set_requires_grad(true));
        params.put("bias", torch.zeros(10).set_requires_grad(true));
        AdamW opt = new AdamW(params, CFG);
        assertEquals(4L * 2 * 60, opt.stateBytes(n -> n.equals("wide")), "plain AdamW keeps 2mn floats");
        assertEquals(4L * (2 * 60 + 2 * 60 + 2 * 10), opt.stateBytes());

        opt.project("wide", 2, 5, AdamW.DEFAULT_GALORE_SCALE);
        opt.project("tall", 2, 5, AdamW.DEFAULT_GALORE_SCALE);
        int m = 6, n = 10, r = 2;
        assertEquals(4L * (2 * r * n + m * r), opt.stateBytes(name -> name.equals("wide")), "rank r of m x n, m <= n: 2rn + mr floats");
        assertEquals(4L * (2 * r * n + m * r), opt.stateBytes(name -> name.equals("tall")), "the transposed shape projects on the right: 2rm' + n'r");
        assertEquals(4L * (2 * (2 * r * n + m * r) + 2 * 10), opt.stateBytes());
        assertFalse(opt.states().get("wide").m.requires_grad(), "optimizer state is no autograd leaf");
    }

    @Test
    void checkpointRoundTripReproducesTheNextSteps(@TempDir Path dir) throws Exception {
        Random rnd = new Random(3);
        float[][] init = gaussian(rnd, 6, 10);
        float[][] bias = {gaussian(rnd, 1, 10)[0]};
        float[][][] grads = new float[4][][];
        float[][][] biasGrads = new float[4][][];
        for (int i = 0; i < 4; i++) {
            grads[i] = gaussian(rnd, 6, 10);
            biasGrads[i] = gaussian(rnd, 1, 10);
        }
        Function<Map<String, Tensor>, AdamW> build = params -> {
            AdamW opt = new AdamW(params, CFG);
            opt.project("w", 2, 3, AdamW.DEFAULT_GALORE_SCALE);
            return opt;
        };
        Map<String, Tensor> original = params(init, bias);
        AdamW opt = build.apply(original);
        for (int i = 0; i < 2; i++) step(opt, original, grads[i], biasGrads[i]);

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        original.forEach((k, t) -> tensors.put("param." + k, t));
        OptimizerCheckpoint.addTo(tensors, opt);
        Path file = new Checkpoints(dir, 2).save(2, tensors, new ObjectMapper().createObjectNode());
        Checkpoints.Loaded ck = Checkpoints.load(file);

        Map<String, Tensor> resumed = params(new float[6][10], new float[1][10]);
        AdamW restored = build.apply(resumed);
        try (NoGradGuard ng = new NoGradGuard()) {
            for (var e : resumed.entrySet()) Checkpoints.copyInto(ck, "param." + e.getKey(), e.getValue());
            OptimizerCheckpoint.restore(ck, restored);
        }
        assertArrayEquals(new long[]{2}, restored.states().get("w").steps);
        // update 3 uses the restored basis (a fresh one would be zeros), update 4 = T + 1 computes a new one
        for (int i = 2; i < 4; i++) {
            step(opt, original, grads[i], biasGrads[i]);
            step(restored, resumed, grads[i], biasGrads[i]);
            for (String name : original.keySet()) {
                assertArrayEquals(Tensors.toFloats(original.get(name)), Tensors.toFloats(resumed.get(name)), 0f, name + " after update " + (i + 1));
            }
            assertArrayEquals(Tensors.toFloats(opt.states().get("w").projection.matrix()), Tensors.toFloats(restored.states().get("w").projection.matrix()), 0f);
        }

        AdamW plain = new AdamW(params(init, bias), CFG);
        Map<String, Tensor> plainTensors = new LinkedHashMap<>();
        OptimizerCheckpoint.addTo(plainTensors, plain);
        Checkpoints.Loaded plainCk = Checkpoints.load(new Checkpoints(dir.resolve("plain"), 1).save(1, plainTensors, new ObjectMapper().createObjectNode()));
        try (NoGradGuard ng = new NoGradGuard()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> OptimizerCheckpoint.restore(plainCk, build.apply(params(init, bias))));
            assertTrue(e.getMessage().contains("adam.proj.w"), e.getMessage());
        }
        assertNull(plain.states().get("w").projection);
    }

    @Test
    void copyStateCarriesTheBasisAndRefusesMixedStates() {
        Random rnd = new Random(5);
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (String n : new String[]{"a", "b", "plain"}) params.put(n, tensor(gaussian(rnd, 6, 10)).set_requires_grad(true));
        AdamW opt = new AdamW(params, CFG);
        opt.project("a", 2, 4, AdamW.DEFAULT_GALORE_SCALE);
        opt.project("b", 2, 4, AdamW.DEFAULT_GALORE_SCALE);
        params.get("a").mutable_grad().put(tensor(gaussian(rnd, 6, 10)));
        opt.step(LR);
        opt.copyState("a", "b");
        AdamW.State a = opt.states().get("a"), b = opt.states().get("b");
        assertArrayEquals(Tensors.toFloats(a.projection.matrix()), Tensors.toFloats(b.projection.matrix()), 0f);
        assertArrayEquals(Tensors.toFloats(a.m), Tensors.toFloats(b.m), 0f);
        assertArrayEquals(a.steps, b.steps);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> opt.copyState("a", "plain"));
        assertTrue(e.getMessage().contains("plain"), e.getMessage());
    }

    @Test
    void badProjectionsAndSliceUpdatesAreRejectedByName() {
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("w", torch.zeros(6, 10).set_requires_grad(true));
        params.put("bias", torch.zeros(10).set_requires_grad(true));
        AdamW opt = new AdamW(params, Map.of("w", 0), CFG);
        for (Runnable bad : new Runnable[]{
                () -> opt.project("missing", 2, 1, 0.25),
                () -> opt.project("bias", 1, 1, 0.25),
                () -> opt.project("w", 0, 1, 0.25),
                () -> opt.project("w", 7, 1, 0.25),
                () -> opt.project("w", 2, 0, 0.25),
                () -> opt.project("w", 2, 1, 0)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad::run);
            assertTrue(e.getMessage().contains("missing") || e.getMessage().contains("bias") || e.getMessage().contains("w:"), e.getMessage());
        }
        assertNull(opt.states().get("w").projection, "a rejected projection leaves the state alone");

        opt.project("w", 6, 1, 0.25);
        assertEquals(-1, opt.states().get("w").sliceAxis, "a GaLore matrix counts whole-tensor updates");
        params.get("w").mutable_grad().put(torch.ones(6, 10));
        Slice rows = new Slice(0, new int[]{0, 1});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> opt.step(LR, Map.of("w", rows)));
        assertTrue(e.getMessage().startsWith("w "), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> opt.resetState("w", rows, true));
    }

    private static void step(AdamW opt, Map<String, Tensor> params, float[][] g, float[][] biasGrad) {
        params.get("w").mutable_grad().put(tensor(g));
        params.get("bias").mutable_grad().put(tensor(biasGrad).view(-1));
        opt.step(LR);
        opt.zeroGrad();
    }

    private static Map<String, Tensor> params(float[][] w, float[][] bias) {
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("w", tensor(w).set_requires_grad(true));
        params.put("bias", tensor(bias).view(-1).clone().set_requires_grad(true));
        return params;
    }

    /**
     * GaLore on one matrix in double precision, written from the method's description: basis from the eigenvectors of
     * G G^T (left) or G^T G (right), Adam with bias correction on the projected gradient, back-projection scaled by
     * alpha, decoupled weight decay.
     */
    private static final class Reference {
        final double[][] w;
        final boolean left;
        final int rank, every;
        final double scale;
        double[][] basis, m, v;
        long t;

        Reference(float[][] w, int rank, int every, double scale) {
            this.w = toDoubles(w);
            this.left = w.length <= w[0].length;
            this.rank = rank;
            this.every = every;
            this.scale = scale;
        }

        void step(float[][] gf) {
            double[][] g = toDoubles(gf);
            t++;
            if ((t - 1) % every == 0) basis = topEigenvectors(left ? matmul(g, transpose(g)) : matmul(transpose(g), g), rank);
            double[][] r = left ? matmul(transpose(basis), g) : matmul(g, basis);
            if (m == null) {
                m = new double[r.length][r[0].length];
                v = new double[r.length][r[0].length];
            }
            double bc1 = 1 - Math.pow(B1, t), bc2 = 1 - Math.pow(B2, t);
            double[][] normalized = new double[r.length][r[0].length];
            for (int i = 0; i < r.length; i++) {
                for (int j = 0; j < r[0].length; j++) {
                    m[i][j] = B1 * m[i][j] + (1 - B1) * r[i][j];
                    v[i][j] = B2 * v[i][j] + (1 - B2) * r[i][j] * r[i][j];
                    normalized[i][j] = (m[i][j] / bc1) / (Math.sqrt(v[i][j] / bc2) + EPS);
                }
            }
            double[][] delta = left ? matmul(basis, normalized) : matmul(normalized, transpose(basis));
            for (int i = 0; i < w.length; i++) {
                for (int j = 0; j < w[0].length; j++) w[i][j] = w[i][j] * (1 - LR * WD) - LR * scale * delta[i][j];
            }
        }
    }

    /**
     * The eigenvectors of the symmetric matrix a for its {@code count} largest eigenvalues, as columns, each signed so
     * its largest-magnitude entry is positive (AdamW's convention for singular vectors). Cyclic Jacobi rotations.
     */
    static double[][] topEigenvectors(double[][] a0, int count) {
        int k = a0.length;
        double[][] a = new double[k][];
        for (int i = 0; i < k; i++) a[i] = a0[i].clone();
        double[][] vec = new double[k][k];
        for (int i = 0; i < k; i++) vec[i][i] = 1;
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < k; p++) for (int q = p + 1; q < k; q++) off += a[p][q] * a[p][q];
            if (off < 1e-30) break;
            for (int p = 0; p < k; p++) {
                for (int q = p + 1; q < k; q++) {
                    if (a[p][q] == 0) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double tan = Math.signum(theta == 0 ? 1 : theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    double c = 1 / Math.sqrt(tan * tan + 1), s = tan * c;
                    for (int i = 0; i < k; i++) {
                        double ip = a[i][p], iq = a[i][q];
                        a[i][p] = c * ip - s * iq;
                        a[i][q] = s * ip + c * iq;
                    }
                    for (int i = 0; i < k; i++) {
                        double pi = a[p][i], qi = a[q][i];
                        a[p][i] = c * pi - s * qi;
                        a[q][i] = s * pi + c * qi;
                    }
                    for (int i = 0; i < k; i++) {
                        double ip = vec[i][p], iq = vec[i][q];
                        vec[i][p] = c * ip - s * iq;
                        vec[i][q] = s * ip + c * iq;
                    }
                }
            }
        }
        Integer[] order = new Integer[k];
        for (int i = 0; i < k; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Double.compare(a[y][y], a[x][x]));
        double[][] out = new double[k][count];
        for (int j = 0; j < count; j++) {
            int col = order[j], peak = 0;
            for (int i = 1; i < k; i++) if (Math.abs(vec[i][col]) > Math.abs(vec[peak][col])) peak = i;
            double sign = Math.signum(vec[peak][col]);
            for (int i = 0; i < k; i++) out[i][j] = sign * vec[i][col];
        }
        return out;
    }

    private static float[][] gaussian(Random rnd, int rows, int cols) {
        float[][] out = new float[rows][cols];
        for (float[] row : out) for (int j = 0; j < cols; j++) row[j] = (float) rnd.nextGaussian();
        return out;
    }

    private static Tensor tensor(float[][] rows) {
        float[] flat = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, flat, i * rows[0].length, rows[0].length);
        return torch.tensor(flat).view(rows.length, rows[0].length).clone();
    }

    private static double[][] toDoubles(float[][] f) {
        double[][] out = new double[f.length][f[0].length];
        for (int i = 0; i < f.length; i++) for (int j = 0; j < f[0].length; j++) out[i][j] = f[i][j];
        return out;
    }

    private static double[] toDoubles(float[] f) {
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) out[i] = f[i];
        return out;
    }

    private static double[][] reshape(float[] flat, int rows, int cols) {
        double[][] out = new double[rows][cols];
        for (int i = 0; i < flat.length; i++) out[i / cols][i % cols] = flat[i];
        return out;
    }

    private static double[][] transpose(double[][] a) {
        double[][] out = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) out[j][i] = a[i][j];
        return out;
    }

    private static double[][] matmul(double[][] a, double[][] b) {
        double[][] out = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int l = 0; l < b.length; l++) for (int j = 0; j < b[0].length; j++) out[i][j] += a[i][l] * b[l][j];
        }
        return out;
    }
}
