package dev.workflowworker.core.internal;

import dev.workflowworker.core.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Proves HandlerPool runs every task once, on at most {@code max} lazily started threads, and survives failures and interrupts. */
class HandlerPoolTest {

    private static final long WAIT_SECONDS = 10;

    /** Records every thread the pool asks for, so tests can count and join them. */
    private static final class CountingFactory implements ThreadFactory {
        final List<Thread> created = new CopyOnWriteArrayList<>();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "handler-pool-test-" + created.size());
            // A failing test must not keep the JVM alive with parked threads.
            t.setDaemon(true);
            created.add(t);
            return t;
        }

        void joinAll() throws InterruptedException {
            for (Thread t : created) {
                t.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                assertFalse(t.isAlive(), t.getName() + " did not exit after shutdownNow");
            }
        }
    }

    private final CountingFactory factory = new CountingFactory();
    private HandlerPool pool;

    private HandlerPool pool(int max) {
        pool = new HandlerPool(max, factory);
        return pool;
    }

    @AfterEach
    void shutDown() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    private static void await(CountDownLatch latch, String what) throws InterruptedException {
        assertTrue(latch.await(WAIT_SECONDS, TimeUnit.SECONDS),
                "timed out waiting for " + what + " (" + latch.getCount() + " left)");
    }

    @Test
    void rejectsAMaximumBelowOne() {
        assertThrows(IllegalArgumentException.class, () -> new HandlerPool(0, factory));
    }

    @Test
    void everySubmittedTaskRunsExactlyOnce() throws Exception {
        HandlerPool p = pool(4);
        int perSubmitter = 50_000;
        int total = 2 * perSubmitter;
        AtomicIntegerArray runs = new AtomicIntegerArray(total);
        CountDownLatch done = new CountDownLatch(total);
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> submitFailure = new AtomicReference<>();
        Thread[] submitters = new Thread[2];
        for (int s = 0; s < submitters.length; s++) {
            int base = s * perSubmitter;
            submitters[s] = new Thread(() -> {
                try {
                    go.await();
                    for (int i = base; i < base + perSubmitter; i++) {
                        int slot = i;
                        p.execute(() -> {
                            runs.incrementAndGet(slot);
                            done.countDown();
                        });
                    }
                } catch (Throwable t) {
                    submitFailure.set(t);
                }
            }, "submitter-" + s);
            submitters[s].start();
        }
        // Both submitters racing each other is what exercises the wake-up decisions.
        go.countDown();
        for (Thread t : submitters) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertNull(submitFailure.get());
        assertTrue(done.await(30, TimeUnit.SECONDS), done.getCount() + " of " + total + " tasks never ran");
        // A task that ran twice would already have counted down for another one that never ran.
        for (int i = 0; i < total; i++) {
            if (runs.get(i) != 1) {
                fail("task " + i + " ran " + runs.get(i) + " times");
            }
        }
        assertTrue(factory.created.size() <= 4, factory.created.size() + " threads for a pool of 4");
    }

    @Test
    void blockingTasksEachGetTheirOwnThreadUpToMax() throws Exception {
        int max = 6;
        HandlerPool p = pool(max);
        CountDownLatch started = new CountDownLatch(max);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(max);
        Set<Thread> ranOn = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < max; i++) {
            p.execute(() -> {
                ranOn.add(Thread.currentThread());
                started.countDown();
                try {
                    release.await(WAIT_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                finished.countDown();
            });
        }
        // Every task blocks until all have started: only one thread per task can get there.
        await(started, "all " + max + " blocking tasks to start together");
        assertEquals(max, ranOn.size());
        assertEquals(max, factory.created.size());
        release.countDown();
        await(finished, "the released tasks to finish");
    }

    @Test
    void aBatchOfBlockingTasksHandedOverAtOnceStillGetsAThreadEachUpToMax() throws Exception {
        // One hand-over wakes one thread; each thread that starts a task while more wait wakes the
        // next, so a batch of slow handlers still runs side by side, not one after another.
        int max = 6;
        HandlerPool p = pool(max);
        CountDownLatch started = new CountDownLatch(max);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(max + 2);
        Set<Thread> ranOn = ConcurrentHashMap.newKeySet();
        List<Runnable> batch = new java.util.ArrayList<>();
        for (int i = 0; i < max + 2; i++) {
            batch.add(() -> {
                ranOn.add(Thread.currentThread());
                started.countDown();
                try {
                    release.await(WAIT_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                finished.countDown();
            });
        }
        assertEquals(List.of(), p.executeAll(batch));
        await(started, max + " tasks of one batch to block side by side");
        assertEquals(max, ranOn.size());
        assertEquals(max, factory.created.size(), "never more threads than max");
        release.countDown();
        await(finished, "every task of the batch, the two that waited for a thread included");
    }

    @Test
    void manyBatchesOfShortTasksRunEveryTaskExactlyOnce() throws Exception {
        HandlerPool p = pool(4);
        int batches = 2_000;
        int perBatch = 64;
        AtomicIntegerArray runs = new AtomicIntegerArray(batches * perBatch);
        CountDownLatch done = new CountDownLatch(batches * perBatch);
        for (int b = 0; b < batches; b++) {
            List<Runnable> batch = new java.util.ArrayList<>(perBatch);
            for (int i = 0; i < perBatch; i++) {
                int id = b * perBatch + i;
                batch.add(() -> {
                    runs.incrementAndGet(id);
                    done.countDown();
                });
            }
            assertEquals(List.of(), p.executeAll(batch));
        }
        await(done, "every task of every batch");
        for (int i = 0; i < runs.length(); i++) {
            assertEquals(1, runs.get(i), "task " + i);
        }
    }

    @Test
    void aBatchHandedToAShutDownPoolIsRefusedWhole() {
        HandlerPool p = pool(2);
        p.shutdownNow();
        AtomicBoolean ran = new AtomicBoolean();
        Runnable a = () -> ran.set(true);
        Runnable b = () -> ran.set(true);
        assertEquals(List.of(a, b), p.executeAll(List.of(a, b)));
        assertFalse(ran.get());
        assertEquals(0, factory.created.size(), "no thread started for a refused batch");
    }

    @Test
    void neverRunsMoreThanMaxAtOnce() throws Exception {
        int max = 3;
        int tasks = 40;
        HandlerPool p = pool(max);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        Semaphore entered = new Semaphore(0);
        Semaphore exit = new Semaphore(0);
        CountDownLatch done = new CountDownLatch(tasks);
        AtomicInteger stuck = new AtomicInteger();
        for (int i = 0; i < tasks; i++) {
            p.execute(() -> {
                peak.accumulateAndGet(inside.incrementAndGet(), Math::max);
                entered.release();
                try {
                    if (!exit.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)) {
                        stuck.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                inside.decrementAndGet();
                done.countDown();
            });
        }
        // The pool is saturated: max tasks hold their threads until the test lets one go.
        assertTrue(entered.tryAcquire(max, WAIT_SECONDS, TimeUnit.SECONDS), "the first " + max + " tasks to start");
        assertEquals(max, inside.get());
        // Each exit frees exactly one thread, which must then take exactly one queued task.
        for (int i = max; i < tasks; i++) {
            exit.release();
            assertTrue(entered.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS), "task " + i + " to start");
            assertTrue(inside.get() <= max, inside.get() + " tasks inside a pool of " + max);
        }
        exit.release(max);
        await(done, "every task to finish");
        assertEquals(0, stuck.get());
        assertEquals(max, peak.get(), "peak concurrency");
        assertTrue(factory.created.size() <= max, factory.created.size() + " threads for a pool of " + max);
    }

    @Test
    void startsThreadsOnlyWhenNeeded() throws Exception {
        HandlerPool p = pool(8);
        assertEquals(0, factory.created.size(), "no thread before the first task");
        CountDownLatch ran = new CountDownLatch(1);
        p.execute(ran::countDown);
        await(ran, "the single task");
        assertEquals(1, factory.created.size(), "one task needs one thread");
    }

    @Test
    void aThrowingTaskDoesNotKillThePool() throws Exception {
        HandlerPool p = pool(1);
        CountDownLatch failedOnce = new CountDownLatch(2);
        p.execute(() -> {
            failedOnce.countDown();
            throw new IllegalStateException("expected by the test: a handler task blowing up");
        });
        p.execute(() -> {
            failedOnce.countDown();
            throw new AssertionError("expected by the test: an Error from a handler task");
        });
        await(failedOnce, "the failing tasks to run");
        CountDownLatch later = new CountDownLatch(1);
        AtomicReference<Thread> laterThread = new AtomicReference<>();
        p.execute(() -> {
            laterThread.set(Thread.currentThread());
            later.countDown();
        });
        await(later, "a task after the failures");
        assertEquals(1, factory.created.size(), "the single thread survived both failures");
        assertSame(factory.created.get(0), laterThread.get());
    }

    @Test
    void anInterruptDeliveredToATaskDoesNotReachTheNextTaskOnThatThread() throws Exception {
        HandlerPool p = pool(1);
        CountDownLatch blocked = new CountDownLatch(1);
        AtomicReference<Thread> first = new AtomicReference<>();
        AtomicBoolean firstSawInterrupt = new AtomicBoolean();
        p.execute(() -> {
            first.set(Thread.currentThread());
            blocked.countDown();
            // Waits without clearing the flag, like handler code that only polls isInterrupted().
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (!Thread.currentThread().isInterrupted() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            firstSawInterrupt.set(Thread.currentThread().isInterrupted());
        });
        CountDownLatch secondRan = new CountDownLatch(1);
        AtomicReference<Thread> second = new AtomicReference<>();
        AtomicBoolean secondInterrupted = new AtomicBoolean(true);
        // Queued behind the first on the pool's only thread.
        p.execute(() -> {
            second.set(Thread.currentThread());
            secondInterrupted.set(Thread.currentThread().isInterrupted());
            secondRan.countDown();
        });
        await(blocked, "the first task to start");
        first.get().interrupt();
        await(secondRan, "the second task");
        assertTrue(firstSawInterrupt.get(), "the interrupt reached the task it was meant for");
        assertSame(first.get(), second.get(), "both ran on the pool's only thread");
        assertFalse(secondInterrupted.get(), "the first task's interrupt leaked into the second");

        CountDownLatch selfInterrupted = new CountDownLatch(1);
        p.execute(() -> {
            Thread.currentThread().interrupt();
            selfInterrupted.countDown();
        });
        CountDownLatch thirdRan = new CountDownLatch(1);
        AtomicBoolean thirdInterrupted = new AtomicBoolean(true);
        p.execute(() -> {
            thirdInterrupted.set(Thread.currentThread().isInterrupted());
            thirdRan.countDown();
        });
        await(selfInterrupted, "the self-interrupting task");
        await(thirdRan, "the task after it");
        assertFalse(thirdInterrupted.get(), "a task's own interrupt leaked into the next");
    }

    @Test
    void anInterruptReachingAnIdleThreadNeitherSpinsItNorReachesTheNextTask() throws Exception {
        // Like a watchdog whose interrupt lands just after the handler returned (abandonInFlight
        // reads the handler's thread, then interrupts it).
        HandlerPool p = pool(1);
        CountDownLatch ran = new CountDownLatch(1);
        p.execute(ran::countDown);
        await(ran, "the first task");
        Thread worker = factory.created.get(0);
        Await.until(Duration.ofSeconds(WAIT_SECONDS), () -> worker.getState() == Thread.State.WAITING,
                () -> "the pool thread to park, but it is " + worker.getState());

        worker.interrupt();

        // A parked thread that kept the flag would return from park at once, forever.
        Await.until(Duration.ofSeconds(WAIT_SECONDS), () -> !worker.isInterrupted() && worker.getState() == Thread.State.WAITING,
                () -> "the idle thread to drop the interrupt and park again (interrupted=" + worker.isInterrupted()
                        + ", state=" + worker.getState() + ")");
        CountDownLatch next = new CountDownLatch(1);
        AtomicBoolean nextInterrupted = new AtomicBoolean(true);
        AtomicReference<Thread> nextThread = new AtomicReference<>();
        p.execute(() -> {
            nextThread.set(Thread.currentThread());
            nextInterrupted.set(Thread.currentThread().isInterrupted());
            next.countDown();
        });
        await(next, "the next task");
        assertSame(worker, nextThread.get());
        assertFalse(nextInterrupted.get(), "an interrupt that arrived between tasks reached the next one");
    }

    @Test
    void shutdownNowInterruptsRunningTasksDropsQueuedOnesAndRejectsNewOnes() throws Exception {
        HandlerPool p = pool(2);
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        p.execute(() -> {
            running.countDown();
            try {
                never.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
        });
        await(running, "the blocking task to start");
        CountDownLatch quick = new CountDownLatch(1);
        p.execute(quick::countDown);
        await(quick, "a short task on the second thread");
        assertEquals(2, factory.created.size(), "the first thread was busy, so a second started");
        // The second thread is free again but may not have parked yet, so the queued task needs
        // both threads busy: block the second one too.
        CountDownLatch secondRunning = new CountDownLatch(1);
        CountDownLatch secondInterrupted = new CountDownLatch(1);
        p.execute(() -> {
            secondRunning.countDown();
            try {
                never.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                secondInterrupted.countDown();
            }
        });
        await(secondRunning, "the second blocking task to start");
        AtomicBoolean queuedRan = new AtomicBoolean();
        p.execute(() -> queuedRan.set(true));

        p.shutdownNow();

        await(interrupted, "shutdownNow to interrupt the first blocked task");
        await(secondInterrupted, "shutdownNow to interrupt the second blocked task");
        assertThrows(RejectedExecutionException.class, () -> p.execute(() -> { }));
        factory.joinAll();
        // Only once every thread has exited is "the queued task never ran" a fact, not a guess.
        assertFalse(queuedRan.get(), "a task queued at shutdownNow was run");
        assertEquals(2, factory.created.size());
    }

    @Test
    void shutdownNowLetsIdleThreadsExit() throws Exception {
        HandlerPool p = pool(4);
        CountDownLatch ran = new CountDownLatch(1);
        p.execute(ran::countDown);
        await(ran, "the task");
        p.shutdownNow();
        factory.joinAll();
        assertThrows(RejectedExecutionException.class, () -> p.execute(() -> { }));
    }

    /** Fails thread creation while {@code failing} is set, as the JVM does when it runs out of native threads. */
    private static ThreadFactory failingWhile(AtomicBoolean failing, ThreadFactory delegate) {
        return r -> {
            if (failing.get()) {
                throw new OutOfMemoryError("unable to create native thread (simulated)");
            }
            return delegate.newThread(r);
        };
    }

    @Test
    void aTaskNoThreadCanRunIsRefusedAndThePoolRecoversWhenThreadsCanStartAgain() throws Exception {
        AtomicBoolean failing = new AtomicBoolean(true);
        pool = new HandlerPool(2, failingWhile(failing, factory));
        AtomicInteger ran = new AtomicInteger();
        // Refused rather than queued: with no thread at all it would wait forever.
        assertThrows(RejectedExecutionException.class, () -> pool.execute(ran::incrementAndGet));

        failing.set(false);
        CountDownLatch done = new CountDownLatch(1);
        pool.execute(done::countDown);
        await(done, "a task after thread creation works again");
        assertEquals(0, ran.get(), "the refused task must not run later");
    }

    @Test
    void whenNoHelperCanStartARunningThreadTakesTheQueuedTaskWhenItFreesUp() throws Exception {
        AtomicBoolean failing = new AtomicBoolean(false);
        pool = new HandlerPool(2, failingWhile(failing, factory));
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        pool.execute(() -> {
            firstStarted.countDown();
            try {
                releaseFirst.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        await(firstStarted, "the first task");
        failing.set(true);
        CountDownLatch second = new CountDownLatch(1);
        pool.execute(second::countDown); // no second thread can start: queued, not refused
        assertEquals(1, second.getCount());
        releaseFirst.countDown();
        await(second, "the queued task on the thread that freed up");
        assertEquals(1, factory.created.size());
    }
}
