package dev.workflowworker.core.order;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.testing.FakeClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeySequencerTest {

    private final FakeClock clock = new FakeClock();
    private final KeySequencer seq = new KeySequencer(clock);

    private static Delivery d(String id, String key) {
        return Delivery.of(id, WorkflowEvent.builder("T").eventId("ev-" + id).executionId(key).build(), 1, Map.of());
    }

    private static List<String> ids(List<Delivery> ds) {
        return ds.stream().map(Delivery::id).toList();
    }

    @Test
    void oneDeliveryPerKeyIsOutAndTheNextComesOnlyAfterItSettles() {
        seq.offer(0, d("1", "a"));
        seq.offer(0, d("2", "a"));
        seq.offer(0, d("3", "b"));
        assertEquals(List.of("1", "3"), ids(seq.poll(10)));
        assertEquals(List.of(), ids(seq.poll(10)));
        assertTrue(seq.settled("1"));
        assertEquals(List.of("2"), ids(seq.poll(10)));
        assertFalse(seq.settled("1"), "settling twice has effect once");
    }

    @Test
    void aHeldRetryKeepsItsKeysPlaceUntilDueWithItsNewAttempt() {
        seq.offer(0, d("1", "a"));
        seq.offer(0, d("2", "a"));
        seq.offer(0, d("3", "b"));
        seq.poll(10);
        long due = clock.wallMillis() + 5_000;
        seq.hold("1", due, 2);
        seq.settled("3");
        assertEquals(List.of(), ids(seq.poll(10)), "key a waits out the backoff; event 2 must not overtake 1");
        assertEquals(1, seq.holds().keys());
        clock.advance(Duration.ofMillis(2_000));
        assertEquals(2_000, seq.holds().longestMillis());
        clock.advance(Duration.ofMillis(3_000));
        List<Delivery> again = seq.poll(10);
        assertEquals(List.of("1"), ids(again));
        assertEquals(2, again.get(0).attempt());
        assertEquals(0, seq.holds().keys());
        seq.settled("1");
        assertEquals(List.of("2"), ids(seq.poll(10)));
    }

    @Test
    void aHandedBackDeliveryIsNextOutAheadOfOtherKeys() {
        seq.offer(0, d("1", "a"));
        seq.offer(0, d("2", "b"));
        assertEquals(List.of("1"), ids(seq.poll(1)));
        seq.handBack("1");
        assertEquals(List.of("1", "2"), ids(seq.poll(10)));
    }

    @Test
    void reofferingAKnownIdIsIgnored() {
        assertTrue(seq.offer(0, d("1", "a")));
        assertFalse(seq.offer(0, d("1", "a")));
        assertEquals(1, seq.size());
    }

    @Test
    void droppingAPartitionForgetsWhatIsBufferedButOutDeliveriesKeepTheirKeysUntilSettled() {
        seq.offer(1, d("1", "a"));
        seq.offer(1, d("2", "a"));
        seq.offer(1, d("3", "b"));
        seq.offer(2, d("4", "c"));
        assertEquals(List.of("1"), ids(seq.poll(1)));
        assertEquals(1, seq.dropPartition(1), "one delivery of partition 1 is still out");
        assertEquals(List.of("4"), ids(seq.poll(10)));
        assertEquals(1, seq.outstanding(1));
        // The partition comes back (read anew): the out delivery still blocks key a.
        seq.offer(1, d("2", "a"));
        assertEquals(List.of(), ids(seq.poll(10)));
        seq.settled("1");
        assertEquals(0, seq.outstanding(1));
        assertEquals(List.of("2"), ids(seq.poll(10)));
    }

    @Test
    void aDeliveryOfferedHeldWaitsUntilItsDueTime() {
        seq.offer(0, d("1", "a"), clock.wallMillis() + 1_000);
        seq.offer(0, d("2", "a"));
        assertEquals(List.of(), ids(seq.poll(10)));
        clock.advance(Duration.ofMillis(1_000));
        assertEquals(List.of("1"), ids(seq.poll(10)));
    }

    @Test
    void readinessWakesTheCallback() {
        AtomicInteger wakes = new AtomicInteger();
        seq.onReady(wakes::incrementAndGet);
        seq.offer(0, d("1", "a"));
        seq.offer(0, d("2", "a"));
        assertEquals(1, wakes.get(), "only a new head wakes");
        seq.poll(10);
        seq.settled("1");
        assertEquals(2, wakes.get());
    }

    @Test
    void settlingABatchFreesEveryKeyWithOneWakeUp() {
        AtomicInteger wakes = new AtomicInteger();
        for (String key : List.of("a", "b", "c")) {
            seq.offer(0, d(key + "1", key));
            seq.offer(0, d(key + "2", key));
        }
        assertEquals(List.of("a1", "b1", "c1"), ids(seq.poll(10)));
        seq.onReady(wakes::incrementAndGet);
        seq.settledAll(List.of("a1", "b1", "c1", "unknown"));
        assertEquals(1, wakes.get(), "one wake-up for the batch");
        assertEquals(List.of("a2", "b2", "c2"), ids(seq.poll(10)), "every key it freed is ready at once");
        seq.settledAll(List.of("a1"));
        assertEquals(1, wakes.get(), "settling again frees nothing and wakes no one");
    }

    @Test
    void awaitReturnsWhenADeliveryBecomesReadyFromAnotherThread() throws Exception {
        Thread t = new Thread(() -> seq.offer(0, d("1", "a")));
        long start = System.nanoTime();
        t.start();
        while (seq.poll(1).isEmpty()) {
            seq.await(Duration.ofSeconds(10).toNanos());
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(9).toNanos(), "await was not woken");
        }
        t.join();
    }

    @Test
    void aTakerThatLeavesDeliveriesReadyWakesTheNextWaiter() throws Exception {
        twoKeysWithTheirFirstOut();
        java.util.concurrent.ConcurrentLinkedQueue<String> got = new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.CountDownLatch waiting = new java.util.concurrent.CountDownLatch(2);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(2);
        List<Thread> takers = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            // Each takes one delivery at most, as a worker with one free slot does.
            Thread t = new Thread(() -> {
                try {
                    waiting.countDown();
                    List<Delivery> mine;
                    while ((mine = seq.poll(1)).isEmpty()) {
                        seq.await(Duration.ofSeconds(60).toNanos());
                    }
                    got.add(mine.get(0).id());
                    done.countDown();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.start();
            takers.add(t);
        }
        assertTrue(waiting.await(10, java.util.concurrent.TimeUnit.SECONDS));
        // Both in their timed wait on the sequencer (a lock wait would not be timed).
        dev.workflowworker.core.testing.Await.until(Duration.ofSeconds(10), () -> takers.stream()
                .allMatch(t -> t.getState() == Thread.State.TIMED_WAITING), "both takers wait");
        // Both keys freed at once: one wake, for one waiter, which takes one and wakes the other.
        seq.settledAll(List.of("a1", "b1"));
        assertTrue(done.await(10, java.util.concurrent.TimeUnit.SECONDS), "a waiter was left asleep: " + got);
        assertEquals(java.util.Set.of("a2", "b2"), java.util.Set.copyOf(got));
        for (Thread t : takers) {
            t.join(10_000);
        }
    }

    /** Keys a and b with two deliveries each, the first of each taken. */
    private void twoKeysWithTheirFirstOut() {
        for (String key : List.of("a", "b")) {
            seq.offer(0, d(key + "1", key));
            seq.offer(0, d(key + "2", key));
        }
        assertEquals(List.of("a1", "b1"), ids(seq.poll(10)));
    }

    @Test
    void quietlyHoldsBackTheWakeForWhatItsThreadTakesAndWakesForWhatItLeaves() {
        AtomicInteger wakes = new AtomicInteger();
        AtomicInteger takes = new AtomicInteger();
        twoKeysWithTheirFirstOut();
        seq.onReady(wakes::incrementAndGet);
        long signals = seq.signals();
        KeySequencer.quietly(() -> {
            seq.settledAll(List.of("a1", "b1"));
            assertEquals(0, wakes.get(), "woke while the thread that freed the keys runs on");
        }, () -> {
            takes.incrementAndGet();
            assertEquals(List.of("a2", "b2"), ids(seq.poll(10)));
        }, () -> 0);
        assertEquals(1, takes.get(), "the freed keys were the committing thread's to take");
        assertEquals(0, wakes.get(), "nothing was left ready: no one to wake");
        assertEquals(signals, seq.signals(), "no waiter woken");

        seq.offer(0, d("a3", "a"));
        seq.offer(0, d("b3", "b"));
        KeySequencer.quietly(() -> seq.settledAll(List.of("a2", "b2")), () -> {
            takes.incrementAndGet();
            assertEquals(List.of("a3"), ids(seq.poll(1)));
        }, () -> 0);
        assertEquals(2, takes.get());
        assertEquals(1, wakes.get(), "b3, left ready, wakes once the thread is done");
        assertTrue(seq.signals() > signals, "and a waiter with it");
        assertEquals(List.of("b3"), ids(seq.poll(10)));
    }

    @Test
    void quietlyWakesAsUsualAndDoesNotTakeWhileOtherDeliveriesAreOut() {
        AtomicInteger wakes = new AtomicInteger();
        AtomicInteger takes = new AtomicInteger();
        twoKeysWithTheirFirstOut();
        seq.onReady(wakes::incrementAndGet);
        long signals = seq.signals();
        // b1 is still out, run by another worker: a2 goes to whichever waiter wakes, so the
        // keys can gather on one worker instead of staying with the one that committed them.
        KeySequencer.quietly(() -> seq.settled("a1"), takes::incrementAndGet, () -> 0);
        assertEquals(0, takes.get(), "took beside another worker's deliveries");
        assertEquals(1, wakes.get(), "the wake was made once the commit returned");
        assertEquals(signals + 1, seq.signals());
        assertEquals(List.of("a2"), ids(seq.poll(10)));
    }

    @Test
    void quietlyTakesBesideTheCallersOwnDeliveriesButNotBesideMore() {
        AtomicInteger takes = new AtomicInteger();
        twoKeysWithTheirFirstOut();
        // b1 is out on the committing worker itself (its other cohort): a2 is this thread's to take.
        KeySequencer.quietly(() -> seq.settled("a1"), () -> {
            takes.incrementAndGet();
            assertEquals(List.of("a2"), ids(seq.poll(10)));
        }, () -> 1);
        assertEquals(1, takes.get(), "did not take beside the worker's own delivery");
        // a2 and b1 out, only one of them the caller's: the other worker's keeps the take away.
        KeySequencer.quietly(() -> seq.settled("b1"), takes::incrementAndGet, () -> 0);
        assertEquals(1, takes.get(), "took beside another worker's delivery");
    }
}
