package org.d2v.data.text;

/** One labelled sentiment sentence (label 0 negative, 1 positive) from a domain: imdb, amazon or yelp. */
public record Sentence(String text, int label, String domain) {}
