package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.TimeSource;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A drain waits until no slot is held and the readers are done (the loop exited, no handler
 * thread's refill reads). A reader ends only after it tracked what it read: so the wait must
 * read "readers done" before "no slot held". Read the other way round, a reader that tracks
 * its batch and ends between the two reads leaves the drain seeing both true while a slot is
 * held, and the worker is closed under a handler that then runs.
 */
class SlotsDrainOrderTest {

    @Test
    void aReaderThatTracksItsBatchAndEndsBetweenTheTwoReadsDoesNotEndTheWait() throws Exception {
        Slots slots = new Slots(2, new WorkerStats(null), TimeSource.system());
        Delivery d = Delivery.of("1-0", WorkflowEvent.builder("T").eventId("e1").executionId("k1").build(), 1, Map.of());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        // The reader (PollLoop.refill or the loop) finishes exactly when the drain looks at it:
        // its delivery is tracked, then it reports itself done.
        boolean[] readerDone = {false};
        boolean drained = slots.awaitEmpty(() -> deadline, () -> {
            if (!readerDone[0]) {
                slots.acquire(1);
                slots.track(new InFlight(d));
                readerDone[0] = true;
            }
            return true;
        });
        assertFalse(drained && !slots.isEmpty(), "the drain ended with " + slots.inFlightCount()
                + " slot held by a delivery its reader tracked before it ended");
    }
}
