package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.Lock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommitQueueTest {

    /** A partition's lease as the engine sees it: one lock object shared by every delivery read under it. */
    private static Lock lease(String key) {
        return new Lock() {
            @Override
            public String key() {
                return key;
            }

            @Override
            public long fencingToken() {
                return 1;
            }

            @Override
            public boolean renew(Duration ttl) {
                return true;
            }

            @Override
            public void release() {
            }
        };
    }

    private static InFlight inFlight(String id, Lock lock) {
        Delivery d = new Delivery(id, WorkflowEvent.builder("T").eventId(id).executionId("x-" + id).build(), 1,
                Map.of(), null);
        return new InFlight(d, lock, 0);
    }

    private static List<String> ids(List<InFlight> fs) {
        List<String> out = new ArrayList<>();
        for (InFlight f : fs) {
            out.add(f.delivery.id());
        }
        return out;
    }

    @Test
    void aFewKeysBatchAloneSplitsIntoTwoCohortsAlongItsLocks() {
        CommitQueue q = new CommitQueue();
        Lock p0 = lease("p0");
        Lock p1 = lease("p1");
        Lock p2 = lease("p2");
        // Three partitions of 3, 3 and 2 keys, taken interleaved as a sequencer hands them out.
        List<InFlight> batch = List.of(inFlight("a", p0), inFlight("b", p1), inFlight("c", p2), inFlight("d", p0),
                inFlight("e", p1), inFlight("f", p2), inFlight("g", p0), inFlight("h", p1));
        assertEquals(2, q.group(batch, false, 8, 8));
        for (InFlight f : batch) {
            assertNotNull(f.cohort, f.delivery.id() + " is in no cohort");
            for (InFlight g : batch) {
                if (f.lock == g.lock) {
                    assertSame(f.cohort, g.cohort, "a partition's entries split over both cohorts: it commits twice");
                }
            }
        }
        assertNotSame(batch.get(0).cohort, batch.get(1).cohort, "one cohort: nothing overlaps");
    }

    /**
     * A few-keys batch all read under one partition's lease is not split: either half would commit
     * that partition, two scripts a round where one does, landing in either order.
     */
    @Test
    void aFewKeysBatchAllUnderOneLockStaysOneGroup() {
        CommitQueue q = new CommitQueue();
        Lock p0 = lease("p0");
        List<InFlight> batch = new ArrayList<>();
        for (String id : List.of("a", "b", "c", "d", "e", "f", "g", "h")) {
            batch.add(inFlight(id, p0));
        }
        assertEquals(0, q.group(batch, false, 8, 8), "split into cohorts: the partition commits twice a round");
        batch.forEach(f -> assertNull(f.cohort, f.delivery.id() + " is in a cohort"));
    }

    @Test
    void aBatchBesideOthersOfTheWorkerIsLooseUnlessACohortsCommitRefilledIt() {
        CommitQueue q = new CommitQueue();
        List<InFlight> beside = List.of(inFlight("a", lease("a")), inFlight("b", lease("b")),
                inFlight("c", lease("c")), inFlight("d", lease("d")));
        assertEquals(0, q.group(beside, false, 12, 16));
        beside.forEach(f -> assertNull(f.cohort));
        List<InFlight> refill = List.of(inFlight("e", lease("e")), inFlight("f", lease("f")));
        assertEquals(1, q.group(refill, true, 14, 16));
        assertNotNull(refill.get(0).cohort);
        assertSame(refill.get(0).cohort, refill.get(1).cohort);
        List<InFlight> busy = List.of(inFlight("g", lease("g")));
        assertEquals(0, q.group(busy, true, 17, 16), "a busy worker's refill lingers not: no cohort");
    }

    /**
     * The settler's thread takes what waited the linger out; the cohort's last handler, later, only
     * what is left of its cohort: each success goes to one commit, in either order.
     */
    @Test
    void theSettlersTakeAndACohortsLastHandlerNeverTakeTheSameSuccess() {
        CommitQueue q = new CommitQueue();
        List<InFlight> batch = new ArrayList<>();
        for (String id : List.of("a", "b", "c", "d")) {
            batch.add(inFlight(id, lease(id)));
        }
        q.group(batch, false, 4, 8);
        InFlight a = batch.get(0);
        List<InFlight> cohort = batch.stream().filter(f -> f.cohort == a.cohort).toList();
        assertEquals(2, cohort.size());
        InFlight first = cohort.get(0);
        InFlight last = cohort.get(1);

        assertTrue(q.add(first, 10));
        assertNull(q.finished(first, true), "the cohort's other handler still runs");
        assertEquals(List.of(), q.takeDue(9, 256), "taken before the linger was up");
        List<InFlight> bySettler = q.takeDue(10, 256);
        assertEquals(List.of(first.delivery.id()), ids(bySettler));
        assertTrue(q.add(last, 20));
        List<InFlight> byHandler = q.finished(last, true);
        assertEquals(List.of(last.delivery.id()), ids(byHandler), "the handler took what the settler had taken");
        assertNull(q.takeDue(Long.MAX_VALUE, 256), "left behind");
        q.committed(bySettler.size(), false);
        q.committed(byHandler.size(), false);

        // The other order: the last handler takes its cohort, the settler then finds nothing of it.
        List<InFlight> other = batch.stream().filter(f -> f.cohort != a.cohort).toList();
        assertTrue(q.add(other.get(0), 30));
        assertNull(q.finished(other.get(0), true));
        assertTrue(q.add(other.get(1), 31));
        List<InFlight> both = q.finished(other.get(1), true);
        assertEquals(ids(other), ids(both));
        assertNull(q.takeDue(Long.MAX_VALUE, 256), "the settler took a success the handler had taken");
    }

    @Test
    void looseSuccessesWaitForTheLastLooseHandlerAndNoLooseCommitOnTheWireButNotForACohort() {
        CommitQueue q = new CommitQueue();
        List<InFlight> cohorts = new ArrayList<>();
        for (String id : List.of("a", "b", "c", "d")) {
            cohorts.add(inFlight(id, lease(id)));
        }
        q.group(cohorts, false, 4, 16);
        InFlight x = inFlight("x", lease("x"));
        InFlight y = inFlight("y", lease("y"));
        q.group(List.of(x, y), false, 6, 16);
        assertTrue(q.add(x, 1));
        assertNull(q.finished(x, true), "y still runs");
        assertTrue(q.add(y, 2));
        List<InFlight> loose = q.finished(y, true);
        assertEquals(List.of("x", "y"), ids(loose), "waited for the four cohort handlers still running");
        InFlight z = inFlight("z", lease("z"));
        q.group(List.of(z), false, 5, 16);
        assertTrue(q.add(z, 3));
        assertNull(q.finished(z, true), "a second loose commit beside the first, carrying half as much");
        q.committed(2, true);
        assertEquals(List.of("z"), ids(q.takeDue(Long.MAX_VALUE, 256)), "left to the settler's linger");
    }

    @Test
    void onceClosedASuccessIsItsCallersToCommitAndCountedUntilThen() throws Exception {
        CommitQueue q = new CommitQueue();
        InFlight a = inFlight("a", lease("a"));
        q.group(List.of(a), false, 1, 8);
        q.stop();
        assertEquals(List.of(), q.close());
        assertTrue(!q.add(a, 1), "queued after the settler's thread left");
        assertTrue(!q.awaitCommits(System.nanoTime(), dev.workflowworker.core.TimeSource.system()),
                "the caller's commit was not counted as on the wire");
        q.committed(1, false);
        assertTrue(q.awaitCommits(System.nanoTime(), dev.workflowworker.core.TimeSource.system()));
    }

    /**
     * Why the queue is not a {@code LinkedBlockingQueue}: its {@code removeIf} tests elements
     * outside its lock (Java 17), so a filter that collects what it removes, as a cohort's take
     * did, and a {@code drainTo} by the settler's linger both get the same success.
     */
    @Test
    void aLinkedBlockingQueuesRemoveIfLetsADrainTakeWhatItsFilterCollected() throws Exception {
        LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>(List.of("s1", "s2"));
        CountDownLatch testing = new CountDownLatch(1);
        CountDownLatch drained = new CountDownLatch(1);
        List<String> byCohort = new ArrayList<>();
        Thread cohortTake = new Thread(() -> queue.removeIf(s -> {
            testing.countDown();
            try {
                assertTrue(drained.await(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byCohort.add(s);
            return true;
        }));
        cohortTake.start();
        assertTrue(testing.await(10, TimeUnit.SECONDS));
        List<String> bySettler = new ArrayList<>();
        queue.drainTo(bySettler);
        drained.countDown();
        cohortTake.join(10_000);
        Set<String> twice = new HashSet<>(bySettler);
        twice.retainAll(byCohort);
        // s1, whose test the drain overtook; s2 the filter no longer saw, the drain having emptied its node.
        assertEquals(Set.of("s1"), twice, "the JDK's removeIf changed: revisit the note above");
    }
}
