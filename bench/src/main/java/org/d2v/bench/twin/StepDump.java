package org.d2v.bench.twin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.bench.ForwardingDevice;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.DecoderConfig;
import org.d2v.data2vec.config.EncoderConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.demo.DemoPresets;
import org.d2v.nn.Parameter;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.d2v.train.BatchSource;
import org.d2v.train.SafeTensors;
import org.d2v.train.StepStats;
import org.d2v.train.TrainingData;

/**
 * One d2v training step, written out so the PyTorch twin (bench/pytorch/twin/check.py) can repeat it
 * and compare: for each backend, {@code <backend>.safetensors} holds the initial student and teacher
 * ({@code init.student.*}, {@code init.teacher.*}), the batch ({@code input.*}), the masks
 * ({@code mask} [rows, T], 1 = masked), the decoder noise ({@code noise} [rows, T, D]), the gradient
 * of every student parameter ({@code grad.*}) and the state after the whole step
 * ({@code after.student.*}, {@code after.teacher.*}, {@code after.adam.m.*}, {@code after.adam.v.*});
 * {@code <backend>.json} the loss terms and statistics of the step; {@code config.json} the model
 * (dropout and layerdrop set to 0 so no random choice is left to replay) and every parameter's
 * name, d2v shape, weight-decay and EMA flags. The reference backend runs in float64, the
 * kernel backends in float32.
 *
 * <pre>usage: StepDump --preset image-demo --out dir [--backends reference,opencl] [--lr 1e-3]</pre>
 */
public final class StepDump {
    static final long DATA_SEED = 7, STEP_SEED = 11;

    private StepDump() {}

    public static void main(String[] args) throws IOException {
        String preset = null;
        Path out = null;
        List<String> backends = List.of("reference", "opencl");
        Double lr = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--preset" -> preset = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                case "--backends" -> backends = List.of(args[++i].split(","));
                case "--lr" -> lr = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("StepDump: unknown option " + args[i]);
            }
        }
        if (preset == null || out == null) throw new IllegalArgumentException("usage: StepDump --preset NAME --out DIR [--backends reference,opencl] [--lr X]");
        dump(preset, out, backends, lr);
    }

    /** Writes config.json and one step per backend into {@code dir}; returns the configuration used. */
    public static Data2VecConfig dump(String preset, Path dir, List<String> backends, Double lr) throws IOException {
        Data2VecConfig cfg = withoutDropout(DemoPresets.named(preset));
        double rate = lr != null ? lr : cfg.optim().lr();
        Files.createDirectories(dir);
        Batch batch;
        try (BatchSource source = TrainingData.open(TrainingData.GENERATED, cfg, DATA_SEED)) {
            batch = source.next();
        }
        List<Map<String, Object>> params = null;
        for (String backend : backends) {
            boolean ref = backend.equals("reference");
            DType dtype = ref ? DType.F64 : DType.F32;
            try (Device inner = ref ? new ReferenceDevice(DType.F64) : Backends.open(backend)) {
                params = dumpOne(cfg, batch, rate, inner, dtype, dir, backend);
            }
        }
        Map<String, Object> config = TwinPresets.describe(cfg);
        config.put("step", 1);
        config.put("lr", rate);
        config.put("parameters", params);
        Files.writeString(dir.resolve("config.json"), JsonText.write(config));
        return cfg;
    }

    private static List<Map<String, Object>> dumpOne(Data2VecConfig cfg, Batch batch, double lr, Device inner, DType dtype,
                                                     Path dir, String backend) throws IOException {
        ForwardingDevice dev = new ForwardingDevice(inner, NoiseRecorder::new);
        NoiseRecorder noise = (NoiseRecorder) dev.ops();
        Device host = new ReferenceDevice(dtype);
        Map<String, Tensor> file = new LinkedHashMap<>();
        try (Data2Vec model = new Data2Vec(dev, cfg, dtype)) {
            for (Map.Entry<String, Tensor> e : model.state().entrySet()) {
                if (e.getKey().startsWith("student.") || e.getKey().startsWith("teacher.")) {
                    file.put("init." + e.getKey(), copy(host, e.getValue()));
                }
            }
            int rows = batch.size() * cfg.clones(), tokens = model.tokens(batch);
            // trainStep draws its masks first from the step's stream (each sample's from its own range): the same draw replayed here.
            MaskBatch masks = model.stepMasks(batch, new RandomStream(STEP_SEED));
            noise.clear();
            StepStats s = model.trainStep(batch, 1, lr, new RandomStream(STEP_SEED));
            List<NoiseRecorder.Draw> draws = noise.draws();
            if (draws.size() != 1) throw new IllegalStateException(backend + ": expected one noise draw in a step, saw " + draws.size());
            NoiseRecorder.Draw d = draws.get(0);
            file.put("noise", Tensor.of(host, dtype, d.shape(), d.values()));
            file.put("mask", Tensor.ofInts(host, Shape.of(rows, tokens), masks.mask()));
            inputs(host, batch).forEach(file::put);
            List<Map<String, Object>> params = new ArrayList<>();
            for (Parameter p : model.parameters().parameters()) {
                file.put("grad." + p.name(), p.tensor().grad());
                Map<String, Object> info = new LinkedHashMap<>();
                info.put("name", p.name());
                info.put("shape", List.of(box(p.shape().dims())));
                info.put("decay", p.decay());
                info.put("tracked", p.tracked());
                params.add(info);
            }
            for (Map.Entry<String, Tensor> e : model.state().entrySet()) file.put("after." + e.getKey(), e.getValue());
            SafeTensors.write(dir.resolve(backend + ".safetensors"), file, Map.of("backend", inner.name()));
            Map<String, Object> terms = new LinkedHashMap<>();
            terms.put("backend", inner.name());
            terms.put("dtype", dtype.name());
            terms.put("loss", s.loss());
            terms.put("regression", s.regression());
            terms.put("cls", s.cls());
            terms.put("gradNorm", s.gradNorm());
            terms.put("targetStd", s.targetStd());
            terms.put("predStd", s.predStd());
            Files.writeString(dir.resolve(backend + ".json"), JsonText.write(terms));
            System.out.printf("%s on %s: loss %.10g (regression %.10g, cls %.10g), gradient norm %.6g%n",
                    cfg.name(), inner.name(), s.loss(), s.regression(), s.cls(), s.gradNorm());
            return params;
        } finally {
            host.close();
        }
    }

    private static Integer[] box(int[] dims) {
        Integer[] b = new Integer[dims.length];
        for (int i = 0; i < dims.length; i++) b[i] = dims[i];
        return b;
    }

    private static Tensor copy(Device host, Tensor t) { return Tensor.of(host, t.dtype(), t.shape(), t.toDoubles()); }

    private static Map<String, Tensor> inputs(Device host, Batch batch) {
        DType f = DType.F64; // the batch's float values are exact in F64
        if (batch instanceof Batch.Images b) {
            return Map.of("input.images", Tensor.of(host, f, Shape.of(b.size(), b.height(), b.width(), b.channels()), doubles(b.pixels())));
        }
        if (batch instanceof Batch.Audio b) return Map.of("input.waves", Tensor.of(host, f, Shape.of(b.size(), b.samples()), doubles(b.waves())));
        Batch.Text b = (Batch.Text) batch;
        return Map.of("input.tokens", Tensor.ofInts(host, Shape.of(b.size(), b.length()), b.tokens()));
    }

    private static double[] doubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    /** The configuration with every dropout and layerdrop at 0: nothing random is left but the masks and the noise. */
    static Data2VecConfig withoutDropout(Data2VecConfig c) {
        EncoderConfig e = c.encoder();
        DecoderConfig d = c.decoder();
        ModalityConfig m = c.modality() instanceof ModalityConfig.Text t
                ? new ModalityConfig.Text(t.length(), t.vocab(), t.maxPositions(), t.padIndex(), 0) : c.modality();
        return new Data2VecConfig(c.name(), m,
                new EncoderConfig(e.dim(), e.heads(), e.depth(), e.prenetDepth(), e.mlpRatio(), e.normEps(), 0, 0, 0, 0, 0, 0),
                c.mask(), new DecoderConfig(d.dim(), d.kernel(), d.layers(), d.groups(), d.residual(), 0, d.projectionLayers(), d.projectionRatio()),
                c.ema(), c.loss(), c.optim(), c.clones(), c.batchSize(), c.seed());
    }
}
