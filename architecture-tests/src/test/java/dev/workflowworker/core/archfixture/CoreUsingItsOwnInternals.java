package dev.workflowworker.core.archfixture;

/** Within the rules: a module may use its own internal packages. */
public class CoreUsingItsOwnInternals {
    dev.workflowworker.core.internal.WireCodec codec;
}
