using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Grpc.Core;

namespace Crisp.Bench;

/// <summary>
/// What a kubelet's cleanup does: stop and remove every pod the bench made (those labelled <see cref="PodRequests.BenchLabel"/>;
/// a runtime named by --endpoint may run other pods, which are none of the bench's business).
/// </summary>
public static class PodCleanup
{
    public static Task RemoveAllAsync(CrispDaemon daemon, CancellationToken cancellationToken) => RemoveAllAsync(daemon.Runtime, cancellationToken);

    public static async Task RemoveAllAsync(RuntimeService.RuntimeServiceClient runtime, CancellationToken cancellationToken)
    {
        var pods = await runtime.ListPodSandboxAsync(new ListPodSandboxRequest(), cancellationToken: cancellationToken);
        var failures = new List<Exception>();
        // One pod that cannot be removed must not keep the others (and their cgroups, CNI leases) around.
        foreach (var pod in pods.Items.Where(p => p.Labels.ContainsKey(PodRequests.BenchLabel)))
        {
            try
            {
                await runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod.Id }, cancellationToken: cancellationToken);
                await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.Id }, cancellationToken: cancellationToken);
            }
            catch (RpcException e)
            {
                failures.Add(new InvalidOperationException($"pod {pod.Id}: {e.StatusCode}: {e.Status.Detail}", e));
            }
        }
        if (failures.Count > 0) throw new AggregateException($"{failures.Count} of {pods.Items.Count} pods could not be removed: {failures[0].Message}", failures);
    }

    /// <summary>For a suite's finally: removes every pod of a daemon still running; a failure becomes a FAILED row.</summary>
    public static Task<BenchRow?> RemoveAllReportingAsync(string suite, CrispDaemon? daemon) =>
        daemon?.ProcessId is null ? Task.FromResult<BenchRow?>(null) : RemoveAllReportingAsync(suite, daemon.Runtime);

    /// <summary>The same for a target of any kind (only the pods the bench made there, for an --endpoint's runtime).</summary>
    public static async Task<BenchRow?> RemoveAllReportingAsync(string suite, RuntimeService.RuntimeServiceClient runtime)
    {
        try
        {
            await RemoveAllAsync(runtime, CancellationToken.None);
            return null;
        }
        catch (Exception e)
        {
            return new BenchRow(suite, "FAILED", "", Note: $"cleanup of pods: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
}
