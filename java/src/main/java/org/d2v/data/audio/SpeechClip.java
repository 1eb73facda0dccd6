package org.d2v.data.audio;

import java.nio.file.Path;

/** One unlabeled pretraining recording: its WAV file, the package it came from and its language folder. */
public record SpeechClip(Path file, String source, String language) {}
