package dev.workflowworker.core.internal;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Fans callbacks out to the host's listeners; a throwing listener is logged and skipped. */
public final class Listeners {

    private static final Logger log = LoggerFactory.getLogger(Listeners.class);

    private final CopyOnWriteArrayList<WorkerListener> listeners;

    /** @param listeners the host's listeners */
    public Listeners(List<WorkerListener> listeners) {
        this.listeners = new CopyOnWriteArrayList<>(listeners);
    }

    /** @param listener a listener to add at runtime */
    public void add(WorkerListener listener) {
        listeners.add(listener);
    }

    /** @param listener a listener to remove @return true if it was registered */
    public boolean remove(WorkerListener listener) {
        return listeners.remove(listener);
    }

    /** @param context the context of the attempt that starts */
    public void started(EventContext context) {
        for (WorkerListener l : listeners) {
            try {
                l.onEventStarted(context);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                log.warn("listener {} threw from onEventStarted; ignored", l, e);
            }
        }
    }

    /** @param outcome what happened */
    public void outcome(EventOutcome outcome) {
        for (WorkerListener l : listeners) {
            try {
                l.onOutcome(outcome);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                log.warn("listener {} threw from onOutcome; ignored", l, e);
            }
        }
    }

    /**
     * @param workerId the worker
     * @param state    its new state
     */
    public void workerState(String workerId, WorkerState state) {
        for (WorkerListener l : listeners) {
            try {
                l.onWorkerState(workerId, state);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                log.warn("listener {} threw from onWorkerState; ignored", l, e);
            }
        }
    }
}
