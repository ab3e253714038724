package dev.workflowworker.opentelemetry;

import io.opentelemetry.api.common.AttributeKey;

/**
 * Attribute names. The {@code messaging.*} ones are the OpenTelemetry messaging semantic
 * conventions, spelled out here so that only {@code opentelemetry-api} is needed; the
 * {@code workflow.*} ones are this library's own.
 */
final class SpanAttributes {

    static final AttributeKey<String> MESSAGING_SYSTEM = AttributeKey.stringKey("messaging.system");
    static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("messaging.destination.name");
    static final AttributeKey<String> OPERATION_NAME = AttributeKey.stringKey("messaging.operation.name");
    static final AttributeKey<String> OPERATION_TYPE = AttributeKey.stringKey("messaging.operation.type");
    static final AttributeKey<String> MESSAGE_ID = AttributeKey.stringKey("messaging.message.id");
    static final AttributeKey<String> CONSUMER_GROUP = AttributeKey.stringKey("messaging.consumer.group.name");
    static final AttributeKey<Long> BATCH_COUNT = AttributeKey.longKey("messaging.batch.message_count");

    static final AttributeKey<String> EXECUTION_ID = AttributeKey.stringKey("workflow.execution.id");
    static final AttributeKey<String> EVENT_TYPE = AttributeKey.stringKey("workflow.event.type");
    static final AttributeKey<String> TENANT = AttributeKey.stringKey("workflow.tenant");
    static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("workflow.attempt");
    static final AttributeKey<String> WORKER_ID = AttributeKey.stringKey("workflow.worker.id");
    static final AttributeKey<String> ENTRY_ID = AttributeKey.stringKey("workflow.entry.id");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("workflow.outcome");
    static final AttributeKey<String> ERROR_CATEGORY = AttributeKey.stringKey("workflow.error.category");
    static final AttributeKey<String> RETRY_AT = AttributeKey.stringKey("workflow.retry_at");
    static final AttributeKey<String> REASON = AttributeKey.stringKey("workflow.reason");

    private SpanAttributes() {
    }
}
