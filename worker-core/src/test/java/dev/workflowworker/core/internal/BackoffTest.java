package dev.workflowworker.core.internal;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackoffTest {

    @Test
    void doublesPerAttemptUntilTheCap() {
        Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), () -> 0.5); // factor 1.0
        assertEquals(Duration.ofSeconds(1), b.delay(1));
        assertEquals(Duration.ofSeconds(2), b.delay(2));
        assertEquals(Duration.ofSeconds(4), b.delay(3));
        assertEquals(Duration.ofSeconds(16), b.delay(5));
        assertEquals(Duration.ofSeconds(30), b.delay(6));
        assertEquals(Duration.ofSeconds(30), b.delay(1000));
    }

    @Test
    void jitterSpansEightyToHundredTwentyPercent() {
        assertEquals(Duration.ofMillis(3200), new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), () -> 0.0).delay(3));
        assertEquals(Duration.ofMillis(36_000),
                new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), () -> 1.0).delay(10));
    }

    @Test
    void randomJitterStaysWithinBoundsAndVaries() {
        SplittableRandom r = new SplittableRandom(42);
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(30), r::nextDouble);
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < 10_000; i++) {
            long ms = b.delay(4).toNanos();
            min = Math.min(min, ms);
            max = Math.max(max, ms);
        }
        long base = Duration.ofMillis(800).toNanos();
        assertTrue(min >= base * 0.8, "min " + min);
        assertTrue(max <= base * 1.2, "max " + max);
        assertTrue(max - min > base * 0.3, "jitter should spread values, got " + min + ".." + max);
    }

    @Test
    void hugeAttemptsDoNotOverflow() {
        Backoff b = new Backoff(Duration.ofDays(365), Duration.ofDays(3650), () -> 0.5);
        assertEquals(Duration.ofDays(3650), b.delay(Integer.MAX_VALUE));
    }
}
