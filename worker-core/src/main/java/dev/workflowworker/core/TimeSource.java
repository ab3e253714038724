package dev.workflowworker.core;

import java.time.Instant;

/**
 * Where the library reads time: wall time for what is stored or shown (retry due times,
 * deadlines, health timestamps) and a monotonic reading for cadences and timeouts. Every
 * component of one service reads the same source, so a test can drive all of them with a fake
 * one, as Caffeine's {@code Ticker} allows. Implementations must be thread-safe.
 */
public interface TimeSource {

    /** {@return the current wall time in epoch milliseconds} */
    long wallMillis();

    /** {@return a monotonic reading in nanoseconds, only meaningful as a difference of two readings} */
    long nanoTime();

    /** {@return the current wall time as an instant} */
    default Instant instant() {
        return Instant.ofEpochMilli(wallMillis());
    }

    /** {@return the system's clocks: {@link System#currentTimeMillis()} and {@link System#nanoTime()}} */
    static TimeSource system() {
        return SystemTimeSource.INSTANCE;
    }
}

/** The system clocks; an enum so that it is a serializable-safe singleton. */
enum SystemTimeSource implements TimeSource {
    INSTANCE;

    @Override
    public long wallMillis() {
        return System.currentTimeMillis();
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Instant instant() {
        return Instant.now();
    }
}
