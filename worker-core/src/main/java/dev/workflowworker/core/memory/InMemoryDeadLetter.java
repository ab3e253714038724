package dev.workflowworker.core.memory;

import dev.workflowworker.api.DeadLetter;

import java.util.Map;

/**
 * A dead-lettered entry held by the in-memory transport.
 *
 * @param originalId the id the entry had on the stream
 * @param fields     the entry's wire fields (the {@code original_message})
 * @param letter     why it was dead-lettered
 */
public record InMemoryDeadLetter(String originalId, Map<String, String> fields, DeadLetter letter) {
}
