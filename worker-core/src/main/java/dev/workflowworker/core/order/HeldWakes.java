package dev.workflowworker.core.order;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * The wakes a thread holds back while it commits ({@link KeySequencer#quietly}): the thread that
 * committed a batch starts the keys' next deliveries itself, since waking a waiting reader for them
 * was a hand-over per batch (docs/ARCHITECTURE.md, "The engine"). A job of its own beside the
 * sequencer's order: it spans every sequencer the commit touched, per thread, not one sequencer's
 * queues under its lock.
 */
final class HeldWakes {

    /** The sequencers whose wakes the current thread holds back while it runs {@link #quietly}; null outside. */
    private static final ThreadLocal<List<KeySequencer>> HELD = new ThreadLocal<>();

    private HeldWakes() {
    }

    /**
     * Runs {@code task} with the wakes for deliveries it makes ready held back, then {@code take}
     * on the same thread if nothing but the caller's own deliveries ({@code own}) of the sequencers
     * it touched is out by then. While other deliveries are out (another worker's), {@code take} does not run and the wake is made as
     * usual: the keys go to whichever waiter wakes, so a transport's few keys gather on one worker
     * rather than staying split over several, each committing part of a partition. Once both
     * returned (or threw), every sequencer whose wake was held back wakes its waiters, and runs its
     * {@link KeySequencer#onReady} callback, if a delivery is still ready: nothing ready waits for
     * a wake that never comes. Only a changed due time (a hold) wakes at once, since every waiter
     * bounds its wait by it; a hand-back only makes a delivery ready, and its wake is held back
     * like a commit's. Calls nest: the outermost decides.
     *
     * @param own how many of the deliveries still out are the caller's own (its worker's, which
     *            {@code take} does not hand to another worker by running); read once {@code task} returned
     */
    static void quietly(Runnable task, Runnable take, IntSupplier own) {
        if (HELD.get() != null) {
            task.run();
            return;
        }
        List<KeySequencer> held = new ArrayList<>(1);
        HELD.set(held);
        try {
            task.run();
            if (!held.isEmpty()) {
                long out = 0;
                for (KeySequencer s : held) {
                    out += s.outstanding();
                }
                // Only what is ready decides which worker takes a key; per-key order is the
                // sequencer's either way (one delivery per key out, the next after the settle).
                if (out <= own.getAsInt()) {
                    take.run();
                }
            }
        } finally {
            HELD.remove();
            for (KeySequencer s : held) {
                s.wakeIfReady();
            }
        }
    }

    /**
     * {@return true when the current thread runs {@link #quietly}: {@code s}'s wake is recorded, to
     * be made after it}
     */
    static boolean holdBack(KeySequencer s) {
        List<KeySequencer> held = HELD.get();
        if (held == null) {
            return false;
        }
        if (!held.contains(s)) {
            held.add(s);
        }
        return true;
    }
}
