package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkerState;
import dev.workflowworker.core.WorkerService;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A lifecycle state that changes only along the transitions of its {@link Table}: every change is
 * a {@link #moveTo} or {@link #move} checked against the table under one monitor, so no caller, and
 * no race between callers, can make an illegal transition (docs/ARCHITECTURE.md, "The engine").
 * Reads are lock-free.
 *
 * @param <S> the states
 */
public final class Lifecycle<S extends Enum<S>> {

    /**
     * Every move a worker's state can make. A crash is possible until the worker stopped, its close
     * included; a crashed worker can only be replaced, and a replaced one can still crash while closing.
     */
    public static final Table<WorkerState> WORKER = Table.of(WorkerState.class)
            .allow(WorkerState.RUNNING, WorkerState.PAUSED, WorkerState.STOPPING, WorkerState.CRASHED,
                    WorkerState.REPLACED)
            .allow(WorkerState.PAUSED, WorkerState.RUNNING, WorkerState.STOPPING, WorkerState.CRASHED,
                    WorkerState.REPLACED)
            .allow(WorkerState.STOPPING, WorkerState.STOPPED, WorkerState.CRASHED)
            .allow(WorkerState.CRASHED, WorkerState.REPLACED)
            .allow(WorkerState.REPLACED, WorkerState.CRASHED);

    /**
     * Every move a service's state can make: even a service never started passes through
     * {@code STOPPING}, where its resources are closed, and ends crashed if a close failed.
     */
    public static final Table<WorkerService.State> SERVICE = Table.of(WorkerService.State.class)
            .allow(WorkerService.State.NEW, WorkerService.State.RUNNING, WorkerService.State.STOPPING)
            .allow(WorkerService.State.RUNNING, WorkerService.State.STOPPING)
            .allow(WorkerService.State.STOPPING, WorkerService.State.TERMINATED, WorkerService.State.CRASHED);

    /**
     * The allowed transitions between the states of one enum; a state with none is terminal.
     *
     * @param <S> the states
     */
    public static final class Table<S extends Enum<S>> {
        private final Class<S> type;
        private final Map<S, Set<S>> next;

        private Table(Class<S> type, Map<S, Set<S>> next) {
            this.type = type;
            this.next = next;
        }

        /**
         * @param type the state enum
         * @param <S>  the states
         * @return a table in which every state is terminal
         */
        public static <S extends Enum<S>> Table<S> of(Class<S> type) {
            return new Table<>(type, new EnumMap<>(type));
        }

        /**
         * @param from a state
         * @param to   the states it may move to
         * @return a table that also allows those transitions
         */
        @SafeVarargs
        public final Table<S> allow(S from, S... to) {
            Map<S, Set<S>> copy = new EnumMap<>(type);
            next.forEach((k, v) -> copy.put(k, EnumSet.copyOf(v)));
            copy.computeIfAbsent(from, k -> EnumSet.noneOf(type)).addAll(Arrays.asList(to));
            return new Table<>(type, copy);
        }

        /**
         * @param from a state
         * @param to   another state
         * @return true if the table allows moving from {@code from} to {@code to}
         */
        public boolean allows(S from, S to) {
            Set<S> targets = next.get(from);
            return targets != null && targets.contains(to);
        }
    }

    private final Table<S> table;
    private volatile S state;

    /**
     * @param table   the allowed transitions
     * @param initial the state to start in
     */
    public Lifecycle(Table<S> table, S initial) {
        this.table = Objects.requireNonNull(table, "table");
        this.state = Objects.requireNonNull(initial, "initial");
    }

    /** @return the state now */
    public S get() {
        return state;
    }

    /**
     * Moves to {@code to} if the table allows it from the state now.
     *
     * @param to the new state
     * @return true if it moved; false leaves the state as it was
     */
    public synchronized boolean moveTo(S to) {
        return moveFrom(state, to);
    }

    /**
     * Moves from {@code from} to {@code to} if the state is {@code from} now and the table allows it.
     *
     * @param from the state expected now
     * @param to   the new state
     * @return true if it moved; false leaves the state as it was
     */
    public synchronized boolean move(S from, S to) {
        return state == from && moveFrom(from, to);
    }

    private boolean moveFrom(S from, S to) {
        if (!table.allows(from, to)) {
            return false;
        }
        state = to;
        notifyAll();
        return true;
    }

    /**
     * Waits while the state matches, at most {@code maxMillis}; returns early on any transition.
     *
     * @param condition what keeps the caller waiting
     * @param maxMillis the longest wait
     * @throws InterruptedException if interrupted while waiting
     */
    public synchronized void awaitWhile(Predicate<S> condition, long maxMillis) throws InterruptedException {
        if (condition.test(state)) {
            wait(Math.max(1, maxMillis));
        }
    }

    @Override
    public String toString() {
        return state.toString();
    }
}
