package org.d2v.json;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    /**
     * A manifest-like value and the exact bytes d2v's hand-written writer produced for it before
     * Jackson: compact, doubles as Double.toString (on JDK 17 that is not always the shortest form,
     * e.g. 0.0020, so files keep their bytes only if the writer is not "fast"), NaN as null.
     */
    @Test
    void writesTheSameBytesAsBefore() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", 12L);
        m.put("lr", 1.0E-4);
        m.put("loss", Double.NaN);
        m.put("big", 1.2345678901234567E10);
        m.put("small", 2.0E-3);
        m.put("neg", -0.5f);
        m.put("name", "a \"q\" \\ b\nc\td/é");
        m.put("list", List.of(1L, 2.5, true, "x"));
        m.put("nil", null);
        m.put("ids", new long[] {3, 4});
        assertEquals("{\"step\":12,\"lr\":1.0E-4,\"loss\":null,\"big\":" + Double.toString(1.2345678901234567E10) + ",\"small\":" + Double.toString(2.0E-3)
                + ",\"neg\":-0.5,"
                + "\"name\":\"a \\\"q\\\" \\\\ b\\nc\\td/é\",\"list\":[1,2.5,true,\"x\"],\"nil\":null,\"ids\":[3,4]}", Json.write(m));
    }

    @Test
    void readsBackWhatItWrites() {
        Object v = Json.parse(" {\"a\": [1, -2, 3.5e2, null, false], \"b\": {\"c\": \"\\u00e9\\n\"}} ");
        assertEquals(Map.of("a", java.util.Arrays.asList(1L, -2L, 350.0, null, false), "b", Map.of("c", "é\n")), v);
        assertInstanceOf(Long.class, ((List<?>) ((Map<?, ?>) v).get("a")).get(0));
    }

    @Test
    void badInputIsAnIllegalArgumentWithAPosition() {
        for (String bad : new String[] {"", "{", "{\"a\":1,}", "[1 2]", "{\"a\":1}x", "{\"a\":1,\"a\":2}", "nul", "\"open", "[1e999999999999]",
                "123456789012345678901234567890", "{a:1}", "[NaN]"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("invalid JSON"), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1,\"a\":2}")).getMessage().contains("a"));
    }

    @Test
    void hostileDocumentsHitTheLimitsNotTheStack() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(deep));
        assertTrue(e.getMessage().contains("depth"), e.getMessage());
        String justDeepEnough = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertNotNull(Json.parse(justDeepEnough));
        String longString = "\"" + "x".repeat(Json.MAX_STRING_CHARS + 1) + "\"";
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Json.parse(longString)).getMessage().contains("length"));
        String longNumber = "[" + "1".repeat(Json.MAX_NUMBER_CHARS + 1) + ".5]";
        assertThrows(IllegalArgumentException.class, () -> Json.parse(longNumber));
    }
}
