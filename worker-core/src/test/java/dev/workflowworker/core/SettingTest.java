package dev.workflowworker.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SettingTest {

    private static final Setting.Table TABLE = new Setting.Table();
    private static final Setting<Integer> SIZE = TABLE.add("size", 4, (name, v) -> {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + v);
        }
    }, "SIZE", Setting.Parser.INTEGER);
    private static final Setting<Duration> WAIT = TABLE.add("wait", Duration.ofSeconds(1),
            (name, v) -> Objects.requireNonNull(v, name), "WAIT_MS", Setting.Parser.MILLIS);
    private static final Setting<String> SECRET = TABLE.add("secret", null, (name, v) -> { });

    @Test
    void valuesStartAtTheDefaultsAndACopyIsIndependent() {
        Setting.Values v = TABLE.defaults();
        Setting.Values copy = v.copy();
        v.set(SIZE, 9);
        assertEquals(9, v.get(SIZE));
        assertEquals(4, copy.get(SIZE));
        v.reset(SIZE);
        assertEquals(4, v.get(SIZE));
    }

    @Test
    void aRefusedValueNamesTheSettingAndChangesNothing() {
        Setting.Values v = TABLE.defaults();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.set(SIZE, 0));
        assertEquals("size must be >= 1, got 0", e.getMessage());
        assertEquals(4, v.get(SIZE));
    }

    @Test
    void variablesAreParsedCheckedAndNamedWithTheirValueWhenWrong() {
        Setting.Values v = TABLE.defaults();
        v.read(Map.of("SIZE", " 7 ", "WAIT_MS", "250", "secret", "ignored"));
        assertEquals(7, v.get(SIZE));
        assertEquals(Duration.ofMillis(250), v.get(WAIT));
        assertEquals(null, v.get(SECRET), "a setting without a variable is not read");
        assertEquals("SIZE=x is invalid: expected an integer",
                assertThrows(IllegalArgumentException.class, () -> v.read(Map.of("SIZE", "x"))).getMessage());
        assertEquals("SIZE=0 is invalid: size must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> v.read(Map.of("SIZE", "0"))).getMessage());
        assertEquals("WAIT_MS=soon is invalid: expected a whole number of milliseconds",
                assertThrows(IllegalArgumentException.class, () -> v.read(Map.of("WAIT_MS", "soon"))).getMessage());
    }

    @Test
    void renderShowsTheChosenSettingsInTheirOrder() {
        Setting.Values v = TABLE.defaults();
        v.set(SECRET, "hunter2");
        assertEquals("size=4, wait=PT1S", v.render(s -> s != SECRET, String::valueOf));
    }

    @Test
    void aSettingOfAnotherTableIsRefused() {
        Setting.Table other = new Setting.Table();
        Setting<Integer> foreign = other.add("foreign", 1, (name, v) -> { });
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TABLE.defaults().get(foreign));
        assertTrue(e.getMessage().contains("foreign"), e.getMessage());
    }

    @Test
    void aVariableNeedsAParser() {
        assertThrows(IllegalArgumentException.class,
                () -> new Setting.Table().add("x", 1, (name, v) -> { }, "X", null));
    }
}
