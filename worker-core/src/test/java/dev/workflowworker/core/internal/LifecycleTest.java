package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkerState;
import dev.workflowworker.core.WorkerService;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LifecycleTest {

    @Test
    void aMoveTheTableDoesNotAllowLeavesTheStateAlone() {
        Lifecycle<WorkerState> w = new Lifecycle<>(Lifecycle.WORKER, WorkerState.RUNNING);
        assertTrue(w.moveTo(WorkerState.STOPPING));
        assertFalse(w.moveTo(WorkerState.PAUSED), "a stopping worker cannot pause: resuming would reopen its reads");
        assertFalse(w.moveTo(WorkerState.RUNNING));
        assertFalse(w.moveTo(WorkerState.STOPPING), "no move to the state it is in");
        assertEquals(WorkerState.STOPPING, w.get());
        assertTrue(w.moveTo(WorkerState.CRASHED), "closing can crash");
        assertFalse(w.moveTo(WorkerState.STOPPED), "the end of a close does not hide its crash");
        assertEquals(WorkerState.CRASHED, w.get());
        assertTrue(w.moveTo(WorkerState.REPLACED));
    }

    @Test
    void aMoveFromAGivenStateHappensOnlyInThatState() {
        Lifecycle<WorkerState> w = new Lifecycle<>(Lifecycle.WORKER, WorkerState.RUNNING);
        assertFalse(w.move(WorkerState.PAUSED, WorkerState.RUNNING));
        assertTrue(w.move(WorkerState.RUNNING, WorkerState.PAUSED));
        assertFalse(w.move(WorkerState.RUNNING, WorkerState.PAUSED));
        assertEquals(WorkerState.PAUSED, w.get());
    }

    @Test
    void stoppedWorkersAndEndedServicesNeverMoveAgain() {
        for (WorkerState to : WorkerState.values()) {
            assertFalse(Lifecycle.WORKER.allows(WorkerState.STOPPED, to), "STOPPED -> " + to);
        }
        for (WorkerService.State to : WorkerService.State.values()) {
            assertFalse(Lifecycle.SERVICE.allows(WorkerService.State.TERMINATED, to), "TERMINATED -> " + to);
            assertFalse(Lifecycle.SERVICE.allows(WorkerService.State.CRASHED, to), "CRASHED -> " + to);
        }
    }

    @Test
    void aServiceEndsOnlyThroughStopping() {
        Lifecycle<WorkerService.State> s = new Lifecycle<>(Lifecycle.SERVICE, WorkerService.State.NEW);
        assertFalse(s.moveTo(WorkerService.State.TERMINATED));
        assertFalse(s.moveTo(WorkerService.State.CRASHED));
        assertTrue(s.moveTo(WorkerService.State.STOPPING));
        assertFalse(s.moveTo(WorkerService.State.RUNNING), "a service stopping before its start never starts");
        assertTrue(s.moveTo(WorkerService.State.CRASHED));
        assertFalse(s.moveTo(WorkerService.State.TERMINATED), "a crash is not overwritten");
    }

    @Test
    void aWaiterWakesAtTheTransition() throws Exception {
        Lifecycle<WorkerState> w = new Lifecycle<>(Lifecycle.WORKER, WorkerState.PAUSED);
        CountDownLatch waiting = new CountDownLatch(1);
        CountDownLatch woke = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                synchronized (w) {
                    // Holding the monitor until the wait begins, so the move below cannot come first.
                    waiting.countDown();
                    w.awaitWhile(s -> s == WorkerState.PAUSED, TimeUnit.MINUTES.toMillis(10));
                }
                woke.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.start();
        assertTrue(waiting.await(5, TimeUnit.SECONDS));
        assertTrue(w.moveTo(WorkerState.RUNNING));
        assertTrue(woke.await(5, TimeUnit.SECONDS), "woken by the move, not by the ten-minute timeout");
    }
}
