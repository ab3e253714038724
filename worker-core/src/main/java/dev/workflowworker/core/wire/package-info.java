/**
 * The wire contract: how a {@link dev.workflowworker.api.WorkflowEvent} is laid out as the flat
 * string fields of a stream entry ({@link dev.workflowworker.core.wire.WireFormat}), and how a
 * dead-lettered entry is recorded ({@link dev.workflowworker.core.wire.DeadLetterFormat}).
 *
 * <p>Every transport of this library encodes and decodes through these types, so a transport
 * written by a third party that does the same accepts and rejects exactly the entries the bundled
 * ones do, and interoperates with the seed system that first wrote this format. Field names and
 * the documented rules are stable; the exact wording of decode errors is not.
 */
package dev.workflowworker.core.wire;
