using Crisp.ImageService.Content;
using Xunit;

namespace Crisp.ImageService.Tests.Content;

public sealed class SharedOperationsTests
{
    [Fact]
    public async Task OneCallerGivingUpDoesNotCancelTheOthers()
    {
        var operations = new SharedOperations<string, int>();
        var release = new TaskCompletionSource();
        int started = 0;
        async Task<int> Work(CancellationToken token)
        {
            Interlocked.Increment(ref started);
            await release.Task.WaitAsync(token);
            return 42;
        }
        using var impatient = new CancellationTokenSource();

        Task<int> first = operations.RunAsync("k", Work, impatient.Token);
        Task<int> second = operations.RunAsync("k", Work, CancellationToken.None);
        impatient.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        release.SetResult();

        Assert.Equal(42, await second);
        Assert.Equal(1, started);
    }

    [Fact]
    public async Task WhenEveryCallerGivesUpTheOperationIsCancelled()
    {
        var operations = new SharedOperations<string, int>();
        var observedCancel = new TaskCompletionSource();
        async Task<int> Work(CancellationToken token)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, token);
                return 0;
            }
            catch (OperationCanceledException)
            {
                observedCancel.SetResult();
                throw;
            }
        }
        using var caller = new CancellationTokenSource();

        Task<int> only = operations.RunAsync("k", Work, caller.Token);
        await Task.Delay(20);
        caller.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => only);
        await observedCancel.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AFailureReachesEveryWaiterAndTheNextCallStartsAfresh()
    {
        var operations = new SharedOperations<string, int>();
        int calls = 0;
        Task<int> Fail(CancellationToken token) =>
            Interlocked.Increment(ref calls) == 1 ? Task.FromException<int>(new IOException("boom")) : Task.FromResult(7);

        await Assert.ThrowsAsync<IOException>(() => operations.RunAsync("k", Fail, CancellationToken.None));
        Assert.Equal(7, await operations.RunAsync("k", Fail, CancellationToken.None));
        Assert.Equal(0, operations.RunningCount);
    }
}
