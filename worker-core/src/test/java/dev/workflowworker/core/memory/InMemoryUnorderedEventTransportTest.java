package dev.workflowworker.core.memory;

/** The transport's contract on the shared queue of {@code ordered(false)}. */
class InMemoryUnorderedEventTransportTest extends InMemoryEventTransportTest {

    @Override
    boolean ordered() {
        return false;
    }
}
