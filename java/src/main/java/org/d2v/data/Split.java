package org.d2v.data;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** A train / test partition of a list of examples. */
public record Split<T>(List<T> train, List<T> test) {
    public Split {
        train = List.copyOf(train);
        test = List.copyOf(test);
    }

    /** Puts the examples that {@code isTest} accepts in test and the rest in train, order kept. */
    public static <T> Split<T> by(List<T> all, Predicate<T> isTest) {
        List<T> tr = new ArrayList<>(), te = new ArrayList<>();
        for (T t : all) (isTest.test(t) ? te : tr).add(t);
        return new Split<>(tr, te);
    }
}
