using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace Crisp.E2E.Cluster;

/// <summary>A pod naming the chart's RuntimeClass runs on crisp's handler; one naming a handler crisp lacks fails its sandbox.</summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class RuntimeClassTests(ClusterFixture cluster)
{
    [SkippableFact]
    public async Task A_pod_with_the_charts_crisp_runc_RuntimeClass_runs()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);
        V1RuntimeClass runtimeClass;
        try
        {
            runtimeClass = await cluster.Client.NodeV1.ReadRuntimeClassAsync(ClusterSettings.RuntimeClassName);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new SkipException($"no RuntimeClass {ClusterSettings.RuntimeClassName}: install charts/crisp with runtimeClasses.create=true");
        }
        var spec = cluster.Pods.Pod("runtimeclass", ClusterPods.Shell("main", "echo on-crisp-runc; exec sleep 3600"));
        spec.Spec.RuntimeClassName = runtimeClass.Metadata.Name;

        var pod = await cluster.Pods.RunAsync(spec);

        Assert.Equal("runc", runtimeClass.Handler);
        Assert.Equal(ClusterSettings.RuntimeClassName, pod.Spec.RuntimeClassName);
        await cluster.Pods.WaitForLogAsync(pod.Metadata.Name, "main", "on-crisp-runc");
    }

    [SkippableFact]
    public async Task A_RuntimeClass_whose_handler_crisp_lacks_fails_the_sandbox_naming_the_handler()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);
        var name = $"crisp-e2e-missing-{Guid.NewGuid().ToString("N")[..8]}";
        await cluster.Client.NodeV1.CreateRuntimeClassAsync(new V1RuntimeClass { Metadata = new V1ObjectMeta { Name = name }, Handler = "no-such-handler" });
        try
        {
            var spec = cluster.Pods.Pod("nohandler", ClusterPods.Shell("main", "exec sleep 3600"));
            spec.Spec.RuntimeClassName = name;
            var pod = await cluster.Pods.CreateAsync(spec);

            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            IReadOnlyList<Corev1Event> events;
            do
            {
                events = await cluster.Pods.EventsAsync(pod.Metadata.Name);
                if (events.Any(e => e.Reason == "FailedCreatePodSandBox")) break;
                await Task.Delay(TimeSpan.FromSeconds(1));
            } while (DateTime.UtcNow < deadline);

            var failure = events.FirstOrDefault(e => e.Reason == "FailedCreatePodSandBox");
            Assert.True(failure is not null, "no FailedCreatePodSandBox event: " + string.Join("; ", events.Select(e => $"{e.Reason}: {e.Message}")));
            Assert.Contains("no-such-handler", failure.Message);
        }
        finally
        {
            await cluster.Client.NodeV1.DeleteRuntimeClassAsync(name);
        }
    }
}
