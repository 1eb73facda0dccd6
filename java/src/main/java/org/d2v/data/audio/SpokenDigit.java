package org.d2v.data.audio;

import java.nio.file.Path;

/**
 * One synthesized spoken digit. {@code voice} names the speaker identity ("espeak/en-us+m3",
 * "flite/slt"); {@code prosody} is the speed/pitch setting within that voice.
 */
public record SpokenDigit(Path file, int digit, String engine, String voice, String prosody) {}
