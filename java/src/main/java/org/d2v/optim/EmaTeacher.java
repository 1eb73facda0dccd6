package org.d2v.optim;

import org.d2v.nn.ParameterStore;

/**
 * Keeps a teacher's tracked parameters an exponential moving average of the student's:
 * θ_T ← τ·θ_T + (1 − τ)·θ_S, one {@code ema} launch over the tracked range, which both stores
 * lay out identically (checked once here).
 */
public final class EmaTeacher {
    private final ParameterStore teacher;
    private final ParameterStore student;
    private final EmaSchedule schedule;

    public EmaTeacher(ParameterStore teacher, ParameterStore student, EmaSchedule schedule) {
        if (!teacher.sameTrackedLayout(student)) {
            throw new IllegalArgumentException("teacher and student lay out their tracked parameters differently");
        }
        if (teacher.dtype() != student.dtype()) throw new IllegalArgumentException("teacher and student dtypes differ");
        this.teacher = teacher;
        this.student = student;
        this.schedule = schedule;
    }

    /** Copies the student's tracked parameters into the teacher (its initialisation). */
    public void copyFromStudent() {
        ParameterStore.Range r = student.trackedRange();
        if (r.length() == 0) return;
        student.device().ops().copy(ParameterStore.slice(student.values(), r), ParameterStore.slice(teacher.values(), r));
        teacher.refreshWorking();
    }

    /**
     * The update that follows an optimiser step; {@code n} is the number of updates done so far,
     * counting that step (the n + 1 of docs/algorithm.md §9's pseudocode). Returns the τ used. At τ = 1 the
     * teacher is frozen and nothing runs.
     */
    public double update(long n) {
        double tau = schedule.tau(n);
        ParameterStore.Range r = student.trackedRange();
        if (tau < 1 && r.length() > 0) {
            student.device().ops().ema(ParameterStore.slice(teacher.values(), r), ParameterStore.slice(student.values(), r), tau,
                    teacher.working() == null ? null : ParameterStore.slice(teacher.working(), r)); // its bf16 copy in the same launch
        }
        return tau;
    }

    public EmaSchedule schedule() { return schedule; }
}
