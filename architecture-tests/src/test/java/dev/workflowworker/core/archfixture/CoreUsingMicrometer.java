package dev.workflowworker.core.archfixture;

/** Breaks the no-Micrometer-in-core rule. */
public class CoreUsingMicrometer {
    io.micrometer.core.instrument.MeterRegistry registry;
}
