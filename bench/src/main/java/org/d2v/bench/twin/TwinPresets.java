package org.d2v.bench.twin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.mask.Maskers;
import org.d2v.demo.DemoPresets;

/**
 * d2v's presets as the JSON the PyTorch twin (bench/pytorch) builds its models from, so that the
 * twin never restates a size by hand. {@code bench/pytorch/presets.json} is this output for
 * {@link #NAMES}; a test fails when it no longer matches the Java presets.
 *
 * <pre>usage: TwinPresets [--out bench/pytorch/presets.json]</pre>
 */
public final class TwinPresets {
    /** Every preset the twin knows: the demo, tiny, micro and base models. */
    public static final List<String> NAMES = List.of(
            "image-demo", "audio-demo", "text-demo", "image-tiny", "audio-tiny", "text-tiny",
            "image-micro", "audio-micro", "text-micro", "image-base", "audio-base", "text-base");

    public static final Path FILE = Path.of("bench/pytorch/presets.json");

    private TwinPresets() {}

    public static void main(String[] args) throws IOException {
        Path out = args.length == 2 && args[0].equals("--out") ? Path.of(args[1]) : FILE;
        if (args.length != 0 && args.length != 2) throw new IllegalArgumentException("usage: TwinPresets [--out file]");
        Files.writeString(out, json());
        System.out.println("wrote " + out + " (" + NAMES.size() + " presets)");
    }

    /** The file's content: {name: preset} for {@link #NAMES}. */
    public static String json() {
        Map<String, Object> all = new LinkedHashMap<>();
        for (String n : NAMES) all.put(n, describe(DemoPresets.named(n)));
        return JsonText.write(all);
    }

    /**
     * One configuration, with the values the Java code derives (tokens per sample, positions masked
     * per row, the loss scale, …) so that the twin needs no formula of its own for them.
     */
    public static Map<String, Object> describe(Data2VecConfig c) {
        ModalityConfig m = c.modality();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", c.name());
        d.put("kind", m.kind());
        d.put("tokens", m.tokens());
        if (m instanceof ModalityConfig.Image img) d.put("grid", img.grid());
        if (m instanceof ModalityConfig.Audio a) d.put("convPosKernel", a.convPosKernel());
        d.put("masked", Maskers.of(c.mask(), m).sample(1, m.tokens(), new RandomStream(0)).masked());
        d.put("lossScale", c.loss().scaleFor(c.encoder().dim()));
        d.put("modality", m);
        d.put("encoder", c.encoder());
        d.put("mask", c.mask());
        d.put("decoder", c.decoder());
        d.put("ema", c.ema());
        d.put("loss", c.loss());
        d.put("optim", c.optim());
        d.put("clones", c.clones());
        d.put("batchSize", c.batchSize());
        d.put("seed", c.seed());
        return d;
    }
}
