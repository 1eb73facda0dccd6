package org.d2v.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.ModalityConfig.TeacherInput;
import org.junit.jupiter.api.Test;

/** {@code --set teacher-input=...} of the experiment tools: one setting changed, the rest of the preset kept. */
class ExperimentSettingsTest {
    @Test
    void teacherInputSetsOnlyTheTextTeachersInput() {
        Data2VecConfig demo = DemoPresets.named("text-demo");
        assertEquals(TeacherInput.STUDENT, ((ModalityConfig.Text) demo.modality()).teacherInput(), "the demo keeps fairseq's default");
        Data2VecConfig tokens = Experiment.apply(demo, "teacher-input=tokens");
        assertEquals(((ModalityConfig.Text) demo.modality()).withTeacherInput(TeacherInput.TOKENS), tokens.modality());
        assertEquals(demo.withModality(tokens.modality()), tokens, "nothing else changes");
        assertEquals(demo, Experiment.apply(tokens, "teacher-input=student"));
    }

    @Test
    void badTeacherInputsAreRejected() {
        IllegalArgumentException word = assertThrows(IllegalArgumentException.class,
                () -> Experiment.apply(DemoPresets.named("text-demo"), "teacher-input=positions"));
        assertTrue(word.getMessage().contains("student, tokens or ema"), word.getMessage());
        IllegalArgumentException image = assertThrows(IllegalArgumentException.class,
                () -> Experiment.apply(DemoPresets.named("image-demo"), "teacher-input=tokens"));
        assertTrue(image.getMessage().contains("text setting"), image.getMessage());
    }

    @Test
    void positionSettingsChangeOnlyTheTextPositions() {
        Data2VecConfig demo = DemoPresets.named("text-demo");
        ModalityConfig.Text t = (ModalityConfig.Text) demo.modality();
        assertTrue(!t.positionOffsets(), "the demo keeps fairseq's positions");
        Data2VecConfig arm = Experiment.apply(Experiment.apply(demo, "positions=258"), "position-offsets=true");
        assertEquals(demo.withModality(t.withMaxPositions(258).withPositionOffsets(true)), arm, "nothing else changes");
        assertEquals(demo, Experiment.apply(Experiment.apply(arm, "position-offsets=false"), "positions=" + t.maxPositions()));
        IllegalArgumentException image = assertThrows(IllegalArgumentException.class,
                () -> Experiment.apply(DemoPresets.named("image-demo"), "position-offsets=true"));
        assertTrue(image.getMessage().contains("text setting"), image.getMessage());
    }
}
