package dev.workflowworker.redis.testsupport;

import java.util.Arrays;

/** What the threads of this JVM are doing, for a test that must act while one waits on Redis. */
public final class Stacks {

    private Stacks() {
    }

    /**
     * {@return true when a thread whose name contains {@code threadName} is blocked reading a reply
     * inside {@code method}}: a call in flight, e.g. to a frozen server
     *
     * @param threadName part of the thread's name ("" for any)
     * @param method     the simple name of a method on its stack
     */
    public static boolean inACall(String threadName, String method) {
        return Thread.getAllStackTraces().entrySet().stream().anyMatch(e -> e.getKey().getName().contains(threadName)
                && Arrays.stream(e.getValue()).anyMatch(f -> f.getMethodName().equals(method))
                && Arrays.stream(e.getValue()).anyMatch(f -> f.getMethodName().contains("read")));
    }
}
