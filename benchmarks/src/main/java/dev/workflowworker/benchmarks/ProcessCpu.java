package dev.workflowworker.benchmarks;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU ticks of other processes (the scaling rows' worker JVMs) from /proc, in total and by thread
 * name with digits dropped, so the rows can say how much of the machine N JVMs spend per event and
 * on what: the library's threads, the JIT compiler, the collector. Empty where there is no /proc.
 */
final class ProcessCpu {

    /** USER_HZ on Linux. */
    static final long HZ = 100;

    private ProcessCpu() {
    }

    /** {@return user + system ticks of every thread of the processes, summed by thread name} */
    static Map<String, Long> threadTicks(List<Long> pids) {
        Map<String, Long> out = new TreeMap<>();
        for (long pid : pids) {
            File[] tasks = new File("/proc/" + pid + "/task").listFiles();
            if (tasks == null) {
                continue;
            }
            for (File t : tasks) {
                try {
                    String stat = Files.readString(t.toPath().resolve("stat"));
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    String name = stat.substring(open + 1, close).replaceAll("[0-9]+", "#");
                    String[] f = stat.substring(close + 2).split(" ");
                    // fields 14 and 15 of stat (utime, stime) are 12 and 13 after the name
                    out.merge(name, Long.parseLong(f[11]) + Long.parseLong(f[12]), Long::sum);
                } catch (IOException | RuntimeException gone) {
                    // a thread that ended meanwhile
                }
            }
        }
        return out;
    }

    /** {@return the ticks of every thread, all names together} */
    static long total(Map<String, Long> ticks) {
        return ticks.values().stream().mapToLong(Long::longValue).sum();
    }

    /** {@return the ticks spent between two readings, by thread name} */
    static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> out = new TreeMap<>();
        after.forEach((k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d > 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    /** {@return microseconds per event of the ticks whose thread name contains {@code part}} */
    static double microsPerEvent(Map<String, Long> ticks, String part, long events) {
        long t = ticks.entrySet().stream().filter(e -> e.getKey().contains(part)).mapToLong(Map.Entry::getValue).sum();
        return t * 1e6 / HZ / events;
    }

    /** {@return the busiest thread names, as "name x.xx us; ..." per event} */
    static String top(Map<String, Long> ticks, long events, int limit) {
        StringBuilder sb = new StringBuilder();
        ticks.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .limit(limit)
                .forEach(e -> sb.append(String.format("%s %.2f us; ", e.getKey(), e.getValue() * 1e6 / HZ / events)));
        return sb.toString().trim();
    }
}
