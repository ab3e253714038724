package dev.workflowworker.core;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.memory.InMemoryEventTransport;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The in-memory transport (ordered) as the tests of the few-keys path see it: its consumers report
 * a commit linger of 1 ms, as a partitioned Redis stream's do, so that the handler that finishes
 * last commits its worker's batch (docs/ARCHITECTURE.md, "The engine"); every other consumer call
 * goes through hooks, on the thread that makes it, before and after the real call. A test states
 * only what its hooks do.
 */
final class HookedTransport {

    /** A consumer call about to be made. */
    interface Before {
        void call(String method, Object[] args) throws Exception;
    }

    /** A consumer call that returned. */
    interface After {
        void call(String method, Object result) throws Exception;
    }

    private HookedTransport() {
    }

    /** {@code memory} with lingering consumers whose calls pass {@code before} only. */
    static EventTransport lingering(InMemoryEventTransport memory, Before before) {
        return lingering(memory, () -> { }, before, (method, result) -> { });
    }

    /**
     * {@code memory} with lingering consumers: {@code onClose} runs when the transport is closed,
     * and every consumer call but {@code commitLinger} passes {@code before}, then {@code after}.
     */
    static EventTransport lingering(InMemoryEventTransport memory, Runnable onClose, Before before, After after) {
        return lingering(memory, onClose, before, after, false);
    }

    /**
     * As {@link #lingering(InMemoryEventTransport, Before)}, with consumers that keep the ordered
     * consumer's own lock steps ({@link EventTransport.LockingConsumer}), as the engine takes them
     * on the transport unwrapped; the others are plain consumers, whose commit the engine composes
     * of {@code complete} and the locks' release.
     */
    static EventTransport lingeringWithOwnLocks(InMemoryEventTransport memory, Before before) {
        return lingering(memory, () -> { }, before, (method, result) -> { }, true);
    }

    private static EventTransport lingering(InMemoryEventTransport memory, Runnable onClose, Before before,
                                            After after, boolean ownLocks) {
        ClassLoader loader = HookedTransport.class.getClassLoader();
        return (EventTransport) Proxy.newProxyInstance(loader, new Class<?>[] {EventTransport.class},
                (proxy, m, args) -> {
                    if (m.getName().equals("close")) {
                        onClose.run();
                    }
                    Object r = invoke(memory, m, args);
                    if (!m.getName().equals("openConsumer")) {
                        return r;
                    }
                    EventTransport.Consumer real = (EventTransport.Consumer) r;
                    Class<?> kind = ownLocks && real instanceof EventTransport.LockingConsumer
                            ? EventTransport.LockingConsumer.class : EventTransport.Consumer.class;
                    return Proxy.newProxyInstance(loader, new Class<?>[] {kind},
                            (p2, m2, a2) -> {
                                if (m2.getName().equals("commitLinger")) {
                                    return Duration.ofMillis(1);
                                }
                                before.call(m2.getName(), a2);
                                Object out = invoke(real, m2, a2);
                                after.call(m2.getName(), out);
                                return out;
                            });
                });
    }

    /**
     * {@code transport} with a close that leaves it open: a second service, the next run of the
     * same stream, reads what the first left behind, and closes it.
     */
    static EventTransport leftOpen(EventTransport transport) {
        return (EventTransport) Proxy.newProxyInstance(HookedTransport.class.getClassLoader(),
                new Class<?>[] {EventTransport.class},
                (proxy, m, args) -> m.getName().equals("close") ? null : invoke(transport, m, args));
    }

    /**
     * {@code perKey} events of each of {@code keys} keys ({@code <prefix><k>}, event ids
     * {@code <prefix><k>-<i>}), the keys taking turns: every key has an event ready at once.
     */
    static List<WorkflowEvent> keysTakingTurns(String prefix, int keys, int perKey) {
        List<WorkflowEvent> all = new ArrayList<>(keys * perKey);
        for (int i = 0; i < perKey; i++) {
            for (int k = 0; k < keys; k++) {
                all.add(WorkflowEvent.builder("T").eventId(prefix + k + "-" + i).executionId(prefix + k).build());
            }
        }
        return all;
    }

    private static Object invoke(Object target, Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
