using Grpc.Core;

namespace Crisp.Bench;

/// <summary>
/// Names the step a suite is in, so a failing RPC or tool ends the suite with one FAILED row saying which step
/// failed and why, while the rows measured before it are still printed.
/// </summary>
public sealed class BenchStep(string suite)
{
    public async Task<T> RunAsync<T>(string step, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is not BenchStepException)
        {
            throw new BenchStepException(suite, step, e);
        }
    }

    public Task RunAsync(string step, Func<Task> action) =>
        RunAsync(step, async () =>
        {
            await action();
            return true;
        });
}

public sealed class BenchStepException(string suite, string step, Exception inner)
    : Exception($"{suite}: {step} failed: {Describe(inner)}", inner)
{
    private const int MaxLength = 300;

    public string Suite { get; } = suite;

    public string Step { get; } = step;

    public BenchRow ToRow() => new(Suite, "FAILED", "", Note: $"{Step}: {Describe(InnerException!)}");

    private static string Describe(Exception e)
    {
        // A type initializer's or aggregate's own message hides the cause.
        if (e is TypeInitializationException or AggregateException) e = e.GetBaseException();
        var text = e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : $"{e.GetType().Name}: {e.Message}";
        text = text.ReplaceLineEndings(" ");
        // One table cell: the start of a long tool or daemon message says enough.
        return text.Length <= MaxLength ? text : text[..MaxLength] + "...";
    }
}
