package org.d2v.data.text;

/** One pretraining document: its source corpus (brown, sotu, moby-dick), name, Brown genre ("" elsewhere) and text. */
public record Document(String source, String name, String genre, String text) {}
