package org.d2v.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.d2v.autograd.F;
import org.d2v.backend.Device;
import org.d2v.data2vec.SinCos2d;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.EncoderConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.nn.Conv2d;
import org.d2v.nn.Init;
import org.d2v.nn.LayerNorm;
import org.d2v.nn.Linear;
import org.d2v.nn.Module;
import org.d2v.nn.ParameterStore;
import org.d2v.nn.TransformerBlock;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The fine-tuning model of spec §10 for images: the data2vec 2.0 student encoder (patch conv +
 * fixed 2-D sin-cos positions, CLS, prenet LN, prenet and main post-LN blocks, no masking), then
 * mean over the patch tokens without CLS → LayerNorm (eps 1e-6) → Linear head (N(0, 0.02²), zero bias).
 *
 * <p>The encoder's parameters carry the names of the pretrained student's (patch_embed.*,
 * cls_token, prenet_norm.*, prenet.i.*, blocks.i.*), so a checkpoint's {@code student.*} tensors
 * load by name; a test checks that its pooled features equal the pretrained model's.
 */
public final class ImageClassifier extends Module {
    /** Prefix of the student's tensors in a data2vec checkpoint. */
    public static final String STUDENT = "student.";

    private final ModalityConfig.Image image;
    private final Conv2d patchEmbed;
    private final org.d2v.nn.Parameter cls;
    private final LayerNorm prenetNorm, fcNorm;
    private final List<TransformerBlock> blocks = new ArrayList<>();
    private final Linear head;

    public ImageClassifier(ParameterStore.Builder b, Data2VecConfig cfg, int classes) {
        if (!(cfg.modality() instanceof ModalityConfig.Image img)) throw new IllegalArgumentException(cfg.name() + " is not an image model");
        this.image = img;
        EncoderConfig e = cfg.encoder();
        if (e.mlpRatio() != Math.rint(e.mlpRatio())) throw new IllegalArgumentException("mlpRatio must be an integer, got " + e.mlpRatio());
        int d = e.dim(), fanIn = img.channels() * img.patch() * img.patch();
        patchEmbed = child("patch_embed", new Conv2d(b.child("patch_embed"), img.channels(), d, img.patch(), img.patch(), 0, 1, true,
                Init.xavierUniform(fanIn, d)));
        cls = img.extraTokens() > 0 ? b.declare("cls_token", Shape.of(1, d), Init.normal(1.0)) : null;
        prenetNorm = child("prenet_norm", new LayerNorm(b.child("prenet_norm"), d, e.normEps(), true));
        TransformerBlock.Dropouts none = TransformerBlock.Dropouts.NONE;
        for (int i = 0; i < e.prenetDepth(); i++) {
            blocks.add(child("prenet." + i, new TransformerBlock(b.child("prenet").child(Integer.toString(i)), d, e.heads(), (int) e.mlpRatio(), e.normEps(), false, none)));
        }
        for (int i = 0; i < e.depth(); i++) {
            blocks.add(child("blocks." + i, new TransformerBlock(b.child("blocks").child(Integer.toString(i)), d, e.heads(), (int) e.mlpRatio(), e.normEps(), false, none)));
        }
        fcNorm = child("fc_norm", new LayerNorm(b.child("fc_norm"), d, 1e-6, true));
        head = child("head", new Linear(b.child("head"), d, classes, true, Init.normal(0.02), Init.zeros()));
    }

    /** Images [B, H, W, C] → mean-pooled encoder features [B, D] (before fc_norm and the head). */
    public Tensor pooled(Tensor images) {
        Tensor p = patchEmbed.forward(images);
        Tensor x = F.reshape(p, p.dim(0), p.dim(1) * p.dim(2), p.dim(3));
        int d = x.dim(2);
        Tensor pos = Tensor.of(x.device(), x.dtype(), Shape.of(image.tokens() * d), SinCos2d.table(d, image.grid(), image.grid()));
        x = F.addBroadcast(x, pos);
        if (cls != null) x = F.prependToken(x, cls.tensor());
        x = prenetNorm.forward(x);
        for (TransformerBlock blk : blocks) x = blk.forward(x, org.d2v.nn.AttentionBias.NONE).x();
        if (cls != null) x = F.dropLeadingTokens(x, 1);
        return F.meanOverTime(x);
    }

    /** Images [B, H, W, C] → class logits [B, classes]. */
    public Tensor logits(Tensor images) { return head.forward(fcNorm.forward(pooled(images))); }

    /**
     * Copies the pretrained student's encoder tensors ({@code student.<name>} in {@code checkpoint})
     * into {@code store}, keeping the freshly initialised head and fc_norm; every encoder parameter
     * must be found, with the right size.
     */
    public static void loadEncoder(ParameterStore store, Map<String, double[]> checkpoint, String source) {
        Map<String, double[]> merged = new LinkedHashMap<>(store.stateDict());
        for (String name : store.names()) {
            if (name.startsWith("head.") || name.startsWith("fc_norm.")) continue;
            double[] v = checkpoint.get(STUDENT + name);
            if (v == null) throw new IllegalArgumentException(source + ": no tensor " + STUDENT + name + " for the encoder");
            merged.put(name, v);
        }
        store.loadStateDict(merged, source);
    }

    /** Uploads host images [n, h, w, c] as a device tensor of the store's type. */
    static Tensor upload(Device device, org.d2v.tensor.DType dtype, float[] pixels, int n, int h, int w, int c) {
        double[] v = new double[pixels.length];
        for (int i = 0; i < v.length; i++) v[i] = pixels[i];
        return Tensor.of(device, dtype, Shape.of(n, h, w, c), v);
    }
}
