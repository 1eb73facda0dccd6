package org.d2v.cli;

import java.util.Locale;
import java.util.SplittableRandom;
import org.d2v.autograd.Tape;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.nn.ParameterStore;
import org.d2v.nn.TransformerRegressor;
import org.d2v.optim.AdamW;
import org.d2v.optim.CosineSchedule;
import org.d2v.optim.Optimizer;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * {@code d2v demo}: trains a small Transformer regressor on generated sequences, end to end
 * through the real stack (modules, tape, flat parameter store, clipping, cosine schedule, AdamW),
 * printing loss and throughput. The task needs attention: each target mixes a token's own
 * features (through a fixed nonlinearity) with the mean of the whole sequence.
 */
public final class DemoCommand implements Command {
    @Override public String name() { return "demo"; }

    @Override public String summary() { return "train a small Transformer on generated data (about a minute)"; }

    private static final String HELP = """
            usage: d2v demo [options]

            Trains a Transformer regressor (post-LN blocks, fused attention, GELU MLP) on freshly
            generated batches: target = tanh(x·A) + mean over the sequence of x·B, for fixed random
            A and B. Prints step, training loss, held-out loss, learning rate, gradient norm and
            samples/s. The held-out loss falls well below the variance of the targets only if the
            model learned the task.

            options (defaults in brackets):
              --backend NAME     reference | opencl | cuda | auto   [reference]
              --steps N          optimiser updates                  [300]
              --max-seconds S    stop early after S seconds         [90]
              --batch N          sequences per step                 [16]
              --tokens N         sequence length                    [16]
              --dim N            model width                        [32]
              --heads N          attention heads                    [4]
              --depth N          Transformer blocks                 [2]
              --lr X             peak learning rate                 [0.002]
              --warmup N         warm-up updates                    [30]
              --clip X           global gradient-norm clip, 0 = off [1.0]
              --dropout P        attention/residual dropout         [0.0]
              --seed N           initialisation, data and dropout   [1]
              --log-every N      print every N steps                [10]
            """;

    private static final int IN = 8, OUT = 4;

    @Override
    public int run(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("d2v demo: " + e.getMessage() + "\n(d2v demo --help lists the options)");
            return 2;
        }
        if (o == null) {
            System.out.print(HELP);
            return 0;
        }
        try (Device dev = Backends.open(o.backend)) {
            train(dev, o);
        }
        return 0;
    }

    private static void train(Device dev, Options o) {
        DType dtype = dev.defaultFloat();
        Task task = new Task(o.seed, o.tokens);
        ParameterStore.Builder b = ParameterStore.builder();
        TransformerRegressor model = new TransformerRegressor(b,
                new TransformerRegressor.Config(IN, o.dim, o.heads, o.depth, o.tokens, OUT, o.dropout, false));
        try (Scope run = Scope.open();
             ParameterStore store = b.build(dev, dtype, o.seed);
             Optimizer opt = new Optimizer(store, new AdamW.Config(0.9, 0.98, 1e-6, 0.01),
                     new CosineSchedule(o.lr, o.warmup, o.steps, 0), o.clip)) {
            System.out.printf(Locale.ROOT, "d2v demo on %s, %s: %d parameters, %d blocks of width %d, batch %d × %d tokens%n",
                    dev.name(), dtype, store.count(), o.depth, o.dim, o.batch, o.tokens);
            Tensor[] heldOut = task.batch(dev, dtype, 64);
            System.out.printf(Locale.ROOT, "held-out loss before training %.5f (target variance %.5f)%n",
                    evaluate(model, heldOut), task.variance(heldOut[1]));
            RandomStream dropout = new RandomStream(o.seed ^ 0x5EED);
            long start = System.nanoTime(), windowStart = start;
            long samples = 0;
            double lossSum = 0;
            int lossCount = 0;
            for (int stepNo = 1; stepNo <= o.steps; stepNo++) {
                model.train(dropout);
                try (Scope step = Scope.open(); Tape tape = Tape.record()) {
                    Tensor[] xy = task.batch(dev, dtype, o.batch);
                    store.zeroGrads();
                    Tensor loss = model.loss(xy[0], xy[1]);
                    tape.backward(loss);
                    opt.step();
                    lossSum += loss.item();
                    lossCount++;
                }
                samples += o.batch;
                double elapsed = (System.nanoTime() - start) / 1e9;
                boolean last = stepNo == o.steps || elapsed > o.maxSeconds;
                if (stepNo % o.logEvery == 0 || last) {
                    double window = (System.nanoTime() - windowStart) / 1e9;
                    System.out.printf(Locale.ROOT, "step %4d  loss %.5f  held-out %.5f  lr %.2e  |g| %.3f  %.1f samples/s%n",
                            stepNo, lossSum / lossCount, evaluate(model, heldOut), opt.lastLr(), opt.lastGradNorm(), samples / window);
                    lossSum = 0;
                    lossCount = 0;
                    samples = 0;
                    windowStart = System.nanoTime();
                }
                if (last) {
                    if (stepNo < o.steps) System.out.printf(Locale.ROOT, "stopped after %.0f s (--max-seconds)%n", elapsed);
                    break;
                }
            }
            System.out.printf(Locale.ROOT, "done in %.1f s%n", (System.nanoTime() - start) / 1e9);
        }
    }

    private static double evaluate(TransformerRegressor model, Tensor[] xy) {
        model.eval();
        try (Scope s = Scope.open()) {
            return model.loss(xy[0], xy[1]).item();
        }
    }

    /** The generated task: fixed random maps A [IN, OUT] and B [IN, OUT]. */
    private static final class Task {
        private final SplittableRandom random;
        private final double[] a = new double[IN * OUT], bm = new double[IN * OUT];
        private final int tokens;

        Task(long seed, int tokens) {
            this.random = new SplittableRandom(seed);
            this.tokens = tokens;
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextDouble(-1, 1) / Math.sqrt(IN) * 2;
                bm[i] = random.nextDouble(-1, 1) / Math.sqrt(IN) * 2;
            }
        }

        /** {x [n, tokens, IN], y [n, tokens, OUT]} allocated in the current scope. */
        Tensor[] batch(Device dev, DType dtype, int n) {
            double[] x = new double[n * tokens * IN], y = new double[n * tokens * OUT];
            for (int i = 0; i < x.length; i++) x[i] = random.nextDouble(-1, 1);
            for (int s = 0; s < n; s++) {
                double[] mean = new double[OUT];
                for (int t = 0; t < tokens; t++) {
                    for (int k = 0; k < OUT; k++) {
                        double dot = 0;
                        for (int i = 0; i < IN; i++) dot += x[(s * tokens + t) * IN + i] * bm[i * OUT + k];
                        mean[k] += dot / tokens;
                    }
                }
                for (int t = 0; t < tokens; t++) {
                    for (int k = 0; k < OUT; k++) {
                        double dot = 0;
                        for (int i = 0; i < IN; i++) dot += x[(s * tokens + t) * IN + i] * a[i * OUT + k];
                        y[(s * tokens + t) * OUT + k] = Math.tanh(dot) + mean[k];
                    }
                }
            }
            return new Tensor[] {Tensor.of(dev, dtype, Shape.of(n, tokens, IN), x), Tensor.of(dev, dtype, Shape.of(n, tokens, OUT), y)};
        }

        /** Mean squared deviation of y from its mean: the loss of always predicting the mean. */
        double variance(Tensor y) {
            double[] v = y.toDoubles();
            double m = 0, s = 0;
            for (double d : v) m += d / v.length;
            for (double d : v) s += (d - m) * (d - m) / v.length;
            return s;
        }
    }

    /** Parsed command line. */
    private static final class Options {
        String backend = "reference";
        int steps = 300, batch = 16, tokens = 16, dim = 32, heads = 4, depth = 2, warmup = 30, logEvery = 10;
        double maxSeconds = 90, lr = 2e-3, clip = 1.0, dropout = 0;
        long seed = 1;

        /** Null for --help. */
        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) return null;
                if (i + 1 >= args.length) throw new IllegalArgumentException("option " + a + " needs a value");
                String v = args[++i];
                try {
                    switch (a) {
                        case "--backend" -> o.backend = v;
                        case "--steps" -> o.steps = positive(a, Integer.parseInt(v));
                        case "--max-seconds" -> o.maxSeconds = Double.parseDouble(v);
                        case "--batch" -> o.batch = positive(a, Integer.parseInt(v));
                        case "--tokens" -> o.tokens = positive(a, Integer.parseInt(v));
                        case "--dim" -> o.dim = positive(a, Integer.parseInt(v));
                        case "--heads" -> o.heads = positive(a, Integer.parseInt(v));
                        case "--depth" -> o.depth = positive(a, Integer.parseInt(v));
                        case "--lr" -> o.lr = Double.parseDouble(v);
                        case "--warmup" -> o.warmup = Integer.parseInt(v);
                        case "--clip" -> o.clip = Double.parseDouble(v);
                        case "--dropout" -> o.dropout = Double.parseDouble(v);
                        case "--seed" -> o.seed = Long.parseLong(v);
                        case "--log-every" -> o.logEvery = positive(a, Integer.parseInt(v));
                        default -> throw new IllegalArgumentException("unknown option " + a);
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("option " + a + ": '" + v + "' is not a number");
                }
            }
            if (o.dim % o.heads != 0) throw new IllegalArgumentException("--dim " + o.dim + " is not divisible by --heads " + o.heads);
            if (o.warmup >= o.steps) throw new IllegalArgumentException("--warmup must be below --steps");
            if (o.dropout < 0 || o.dropout >= 1) throw new IllegalArgumentException("--dropout must be in [0, 1)");
            return o;
        }

        private static int positive(String option, int v) {
            if (v < 1) throw new IllegalArgumentException(option + " must be ≥ 1, got " + v);
            return v;
        }
    }
}
