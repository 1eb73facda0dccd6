package org.d2v.interop;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * d2v's student encoder parameters under the names and layouts of fairseq's data2vec 2.0 model
 * (examples/data2vec/models/data2vec2.py, Data2VecMultiModel): the shared Transformer is
 * {@code blocks.N}, everything of one modality lives under {@code modality_encoders.IMAGE|AUDIO|TEXT}
 * (local encoder, feature projection, positional encoders, extra tokens, ALiBi scale, context
 * encoder = the prenet). docs/interop.md lists the correspondence and what has no counterpart.
 *
 * <p>Not mapped: the conv decoder and the EMA teacher (pretraining only, not part of an encoder).
 */
final class FairseqNames {
    private FairseqNames() {}

    /** One d2v name pattern and its fairseq name; {@code reshape} is fairseq's shape for RESHAPE, from d2v's. */
    private record Rule(String modality, Pattern d2v, String fairseq, Layout layout, Reshape reshape) {}

    interface Reshape { int[] apply(int[] d2v); }

    /** What a d2v tensor becomes in fairseq. */
    record Target(String name, Layout layout, int[] shape) {}

    private static final String ANY = "*";

    private static final List<Rule> RULES = List.of(
            rule(ANY, "blocks\\.(\\d+)\\.(.+)", "blocks.$1.$2"),
            rule(ANY, "prenet\\.(\\d+)\\.(.+)", "modality_encoders.%M.context_encoder.blocks.$1.$2"),
            rule(ANY, "prenet_norm\\.(weight|bias)", "modality_encoders.%M.context_encoder.norm.$1"),
            // image: timm's PatchEmbed (a Conv2d named proj), the CLS token among the extra tokens
            new Rule("image", Pattern.compile("patch_embed\\.weight"), "modality_encoders.IMAGE.local_encoder.proj.weight", Layout.CONV2D, null),
            rule("image", "patch_embed\\.bias", "modality_encoders.IMAGE.local_encoder.proj.bias"),
            new Rule("image", Pattern.compile("cls_token"), "modality_encoders.IMAGE.extra_tokens", Layout.RESHAPE, s -> new int[] {1, s[0], s[1]}),
            // audio: wav2vec's ConvFeatureExtractionModel in layer_norm mode, Sequential(conv, dropout, Sequential(T, LN, T), GELU)
            new Rule("audio", Pattern.compile("feature_extractor\\.(\\d+)\\.conv\\.weight"), "modality_encoders.AUDIO.local_encoder.conv_layers.$1.0.weight",
                    Layout.CONV1D, null),
            rule("audio", "feature_extractor\\.(\\d+)\\.norm\\.(weight|bias)", "modality_encoders.AUDIO.local_encoder.conv_layers.$1.2.1.$2"),
            // project_features = Sequential(TransposeLast, LayerNorm, Linear)
            rule("audio", "project_features\\.norm\\.(weight|bias)", "modality_encoders.AUDIO.project_features.1.$1"),
            rule("audio", "project_features\\.linear\\.(weight|bias)", "modality_encoders.AUDIO.project_features.2.$1"),
            // relative_positional_encoder = Sequential(TransposeLast, Sequential(conv, ...) × depth, TransposeLast): layer i is at i + 1
            new Rule("audio", Pattern.compile("conv_pos\\.(\\d+)\\.weight"), "modality_encoders.AUDIO.relative_positional_encoder.{$1+1}.0.weight",
                    Layout.CONV1D, null),
            rule("audio", "conv_pos\\.(\\d+)\\.bias", "modality_encoders.AUDIO.relative_positional_encoder.{$1+1}.0.bias"),
            // one learned ALiBi scale per head, shared by all layers: fairseq's [layers=1, 1, heads, 1, 1]
            new Rule("audio", Pattern.compile("alibi_scale"), "modality_encoders.AUDIO.alibi_scale", Layout.RESHAPE, s -> new int[] {1, 1, s[0], 1, 1}),
            // text: TextLocalEncoder
            rule("text", "embed_tokens\\.weight", "modality_encoders.TEXT.local_encoder.embed_tokens.weight"),
            rule("text", "embed_positions\\.weight", "modality_encoders.TEXT.local_encoder.embed_positions.weight"),
            rule("text", "embed_norm\\.(weight|bias)", "modality_encoders.TEXT.local_encoder.layernorm_embedding.$1"));

    private static Rule rule(String modality, String d2v, String fairseq) {
        return new Rule(modality, Pattern.compile(d2v), fairseq, Layout.SAME, null);
    }

    /** True for student tensors that are not part of the encoder (exported by neither format). */
    static boolean pretrainingOnly(String d2vName) { return d2vName.startsWith("decoder."); }

    /**
     * The fairseq name, layout and shape of d2v encoder parameter {@code d2vName} (without the
     * "student." prefix) of shape {@code shape}, for {@code modality} image|audio|text.
     */
    static Target target(String modality, String d2vName, int[] shape) {
        for (Rule r : RULES) {
            if (!r.modality.equals(ANY) && !r.modality.equals(modality)) continue;
            Matcher m = r.d2v.matcher(d2vName);
            if (!m.matches()) continue;
            String name = m.replaceFirst(r.fairseq).replace("%M", modality.toUpperCase(java.util.Locale.ROOT));
            Matcher plus = Pattern.compile("\\{(\\d+)\\+1}").matcher(name);
            if (plus.find()) name = plus.replaceFirst(Integer.toString(Integer.parseInt(plus.group(1)) + 1));
            return new Target(name, r.layout, r.layout.fairseqShape(shape, r.reshape == null ? null : r.reshape.apply(shape)));
        }
        throw new IllegalArgumentException("d2v parameter '" + d2vName + "' of a " + modality + " model has no fairseq counterpart");
    }
}
