package dev.workflowworker.redis.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What the worker processes of the occurrence chaos run wrote in their ledger files
 * ({@link OccurrenceWorkerMain}), by event id. Only whole lines count: a process killed in a
 * write leaves at most a line without its newline, which is not a record.
 */
final class OccurrenceLedger {

    /** A handler start: when, by which process, and the due-at and scheduled-at headers it saw (or -1). */
    record Start(String pid, long at, long dueAt, long scheduledAt) {
    }

    /** An outcome SUCCEEDED, written after the commit. */
    record Completion(String pid, String deliveryId, long at) {
    }

    /** Everything recorded for one event id. */
    static final class Event {
        final List<Start> starts = new ArrayList<>();
        final List<String> effectPids = new ArrayList<>();
        final List<Completion> completions = new ArrayList<>();
        final List<String> recognisedDuplicates = new ArrayList<>();

        /**
         * Completed: its success was recorded, or its effect was written by a process killed
         * afterwards (between the commit and the record, or before the commit, in which case the
         * next owner ran it again and recorded that; the run checks at the end that nothing is
         * left unsettled in the partitions).
         */
        boolean completed(Set<String> killedPids) {
            if (!completions.isEmpty()) {
                return true;
            }
            for (String pid : effectPids) {
                if (killedPids.contains(pid)) {
                    return true;
                }
            }
            return false;
        }

        boolean completedUnrecorded(Set<String> killedPids) {
            return completions.isEmpty() && completed(killedPids);
        }

        /**
         * Completed more than once: two successes recorded, or a handler started after the first
         * success was recorded (so after its commit), whether or not that run got to record.
         */
        boolean duplicated() {
            if (completions.size() > 1) {
                return true;
            }
            if (completions.isEmpty()) {
                return false;
            }
            long first = completions.get(0).at();
            for (Completion c : completions) {
                first = Math.min(first, c.at());
            }
            for (Start s : starts) {
                if (s.at() > first) {
                    return true;
                }
            }
            return false;
        }

        /** Distinct stream entries this event id was delivered from: more than one means it was appended twice. */
        int entries() {
            Set<String> ids = new HashSet<>(recognisedDuplicates);
            for (Completion c : completions) {
                ids.add(c.deliveryId());
            }
            return ids.size();
        }

        long firstStart() {
            return starts.stream().mapToLong(Start::at).min().orElse(Long.MAX_VALUE);
        }

        long lastStart() {
            return starts.stream().mapToLong(Start::at).max().orElse(Long.MIN_VALUE);
        }
    }

    final Map<String, Event> events = new HashMap<>();
    final Set<String> ready = new HashSet<>();
    /**
     * Event ids whose completion a commit wrote into Redis (the partitions' {@code recent} lists,
     * which only a commit of a success pushes to). A handler cannot see its commit land, so when
     * Redis dies after applying a commit and before its reply leaves, the ledger shows the effect
     * by a live process, no success and no rerun: completed once, which only Redis can tell from
     * a loss. A later commit moving the position over a lost entry does not put the lost one's id
     * here, so this does not hide a loss.
     */
    final Set<String> landedCommits = new HashSet<>();
    long records;

    static OccurrenceLedger read(Path dir) throws IOException {
        OccurrenceLedger l = new OccurrenceLedger();
        if (!Files.isDirectory(dir)) {
            return l;
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("ledger-")).sorted().toList();
        }
        for (Path f : files) {
            String text = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
            int end = text.lastIndexOf('\n');
            if (end < 0) {
                continue;
            }
            for (String line : text.substring(0, end).split("\n")) {
                l.add(line.split("\t"));
            }
        }
        return l;
    }

    private void add(String[] r) {
        records++;
        String kind = r[0];
        String pid = r[1];
        if (kind.equals("R")) {
            ready.add(pid);
            return;
        }
        Event e = events.computeIfAbsent(r[2], k -> new Event());
        switch (kind) {
            case "S" -> e.starts.add(new Start(pid, Long.parseLong(r[3]), number(r[4]), number(r[5])));
            case "E" -> e.effectPids.add(pid);
            case "C" -> e.completions.add(new Completion(pid, r[3], Long.parseLong(r[4])));
            case "D" -> e.recognisedDuplicates.add(r[3]);
            default -> throw new IllegalStateException("unknown ledger record " + String.join(" ", r));
        }
    }

    private static long number(String s) {
        return s.equals("-") ? -1 : Long.parseLong(s);
    }

    Event get(String id) {
        return events.get(id);
    }

    boolean completed(String id, Set<String> killedPids) {
        Event e = events.get(id);
        return e != null && (e.completed(killedPids) || replyLost(id, killedPids));
    }

    /** Its effect written by a live process, no success recorded, and its own commit in Redis: the reply was lost. */
    boolean replyLost(String id, Set<String> killedPids) {
        Event e = events.get(id);
        return e != null && !e.completed(killedPids) && !e.effectPids.isEmpty() && landedCommits.contains(id);
    }
}
