package dev.workflowworker.benchmarks;

import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A fixed CPU arrangement for the cluster rows on a small machine: every Redis server the rows
 * measure on CPU 0, this JVM on CPU 1 (with {@code taskset}, every thread of each process). Without
 * it the one master and the three masters of a pair share two cores with the workers in whatever
 * way the scheduler picks that second, and the 3 / 1 ratio swings 0.5–1.4 with the load; pinned, the
 * one master has CPU 0 to itself and the three share it, and the JVM never runs on their core.
 * Also reads a local server's context switches (its /proc entry), which say how often it slept.
 */
final class CpuPinning implements AutoCloseable {

    static final String SERVERS_CPU = "0";
    static final String JVM_CPU = "1";

    /** Process id to the affinity list it had, restored on close. */
    private final Map<Long, String> previous = new LinkedHashMap<>();
    private final boolean active;

    private CpuPinning(boolean active) {
        this.active = active;
    }

    /** {@return whether this machine can pin: 2 or more CPUs and {@code taskset} on the path} */
    static boolean available() {
        return Runtime.getRuntime().availableProcessors() >= 2 && run("taskset", "-V") != null;
    }

    /**
     * Pins this JVM to {@link #JVM_CPU} and every server in {@code servers} (local ones; their pid
     * from {@code INFO server}) to {@link #SERVERS_CPU}, unless {@code wanted} is false or the machine
     * cannot; {@link #close} puts back the affinity each had.
     */
    static CpuPinning pin(boolean wanted, List<HostAndPort> servers) {
        CpuPinning p = new CpuPinning(wanted && available());
        if (p.active) {
            p.set(ProcessHandle.current().pid(), JVM_CPU);
            for (HostAndPort s : servers) {
                long pid = pidOf(s);
                if (pid > 0) {
                    p.set(pid, SERVERS_CPU);
                }
            }
        }
        return p;
    }

    boolean active() {
        return active;
    }

    /** {@return what the rows ran on, for their notes} */
    String describe() {
        return active ? "servers pinned to CPU " + SERVERS_CPU + ", the JVM to CPU " + JVM_CPU + " (taskset)"
                : "not pinned";
    }

    private void set(long pid, String cpus) {
        String was = run("taskset", "-c", "-p", Long.toString(pid));
        if (was != null && !previous.containsKey(pid)) {
            previous.put(pid, was.substring(was.lastIndexOf(':') + 1).trim());
        }
        if (run("taskset", "-a", "-c", "-p", cpus, Long.toString(pid)) == null) {
            throw new IllegalStateException("taskset could not pin process " + pid + " to CPU " + cpus);
        }
    }

    @Override
    public void close() {
        previous.forEach((pid, cpus) -> run("taskset", "-a", "-c", "-p", cpus, Long.toString(pid)));
        previous.clear();
    }

    /** {@return the server's process id by {@code INFO server}, or 0 if it is not on this machine} */
    static long pidOf(HostAndPort server) {
        if (!server.getHost().equals("127.0.0.1") && !server.getHost().equals("localhost")) {
            return 0;
        }
        try (Jedis j = new Jedis(server)) {
            for (String line : j.info("server").split("\r?\n")) {
                if (line.startsWith("process_id:")) {
                    return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        }
        return 0;
    }

    /**
     * {@return voluntary and involuntary context switches of every thread of process {@code pid}}:
     * a server's voluntary ones are its sleeps in the event loop's wait, each a wake-up to pay;
     * {0, 0} where /proc cannot be read
     */
    static long[] contextSwitches(long pid) {
        long[] out = new long[2];
        if (pid <= 0) {
            return out;
        }
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                for (String line : Files.readAllLines(t.resolve("status"))) {
                    if (line.startsWith("voluntary_ctxt_switches:")) {
                        out[0] += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                        out[1] += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return new long[2];
        }
        return out;
    }

    /** Runs a short command; {@return its output, or null if it failed or is missing} */
    private static String run(String... command) {
        try {
            Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            return out;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
