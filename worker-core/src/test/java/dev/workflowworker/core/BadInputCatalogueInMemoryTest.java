package dev.workflowworker.core;

import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.core.memory.InMemoryDeadLetter;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.core.testing.BadInputCatalogue;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BadInputCatalogueInMemoryTest {

    record Ticket(String ticketId, int priority) {
    }

    @Test
    void everyBadEntryIsDeadLetteredWithItsReasonAndTheWorkerCarriesOn() {
        List<BadInputCatalogue.Case> cases = BadInputCatalogue.cases();
        assertTrue(cases.size() >= 20);
        Set<String> processed = ConcurrentHashMap.newKeySet();
        InMemoryEventTransport transport = InMemoryEventTransport.create();
        try (WorkerService s = WorkerService.builder().transport(transport).workerCount(2)
                .pollInterval(Duration.ofMillis(20))
                .runtime(ActionRuntime.builder().on(BadInputCatalogue.TYPED, ctx -> {
                    ctx.payloadAs(Ticket.class);
                    processed.add(ctx.event().eventId());
                }, "ticket_id").build()).build()) {
            s.start();
            for (BadInputCatalogue.Case c : cases) {
                transport.publishRaw(c.fields());
            }
            List<Map<String, String>> odd = BadInputCatalogue.oddButValid();
            odd.forEach(transport::publishRaw);
            transport.publishRaw(BadInputCatalogue.valid("good-after-bad"));
            Await.until(Duration.ofSeconds(30), () -> transport.deadLetters().size() == cases.size()
                    && processed.size() == odd.size() + 1, () -> "dead letters " + transport.deadLetters().size()
                    + "/" + cases.size() + ", processed " + processed);
            List<InMemoryDeadLetter> dead = transport.deadLetters();
            for (BadInputCatalogue.Case c : cases) {
                InMemoryDeadLetter d = dead.stream()
                        .filter(x -> x.fields().equals(c.fields())).findFirst()
                        .orElseThrow(() -> new AssertionError("no dead letter for case: " + c.name()));
                assertTrue(d.letter().errorMessage().contains(c.expectedReason()),
                        c.name() + ": '" + d.letter().errorMessage() + "' lacks '" + c.expectedReason() + "'");
                assertTrue(d.letter().errorMessage().length() < 500, c.name() + ": message too long");
            }
            for (Map<String, String> f : odd) {
                assertTrue(processed.contains(f.get("event_id")), "odd but valid entry not processed: " + f);
            }
            assertFalse(new java.io.File("/tmp/pwned").exists(), "a type hint must never instantiate anything");
            assertEquals(2, s.health().workerCount());
            assertTrue(s.health().workers().stream().allMatch(w -> w.status() != HealthStatus.UNHEALTHY));
        }
    }
}
