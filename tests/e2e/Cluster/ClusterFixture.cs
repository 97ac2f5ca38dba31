using k8s;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.Models;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Crisp.E2E.Cluster;

/// <summary>
/// A Kubernetes cluster reached through KUBECONFIG with at least one Ready node whose kubelet talks to crisp, and a
/// namespace of its own for the suite's pods (deleted afterwards). Without such a cluster every test is skipped
/// with <see cref="SkipReason"/>, which is also reported once as an xunit diagnostic so that `dotnet test` prints it.
/// </summary>
public sealed class ClusterFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    private static readonly TimeSpan ApiTimeout = TimeSpan.FromSeconds(30);

    private Kubernetes? _client;
    private V1Node? _node;

    public string? SkipReason { get; private set; }
    public IKubernetes Client => _client ?? throw new InvalidOperationException("no cluster: " + SkipReason);
    public V1Node Node => _node ?? throw new InvalidOperationException("no cluster: " + SkipReason);
    public string Namespace { get; } = "crisp-e2e-" + Guid.NewGuid().ToString("N")[..12];
    public ClusterPods Pods => new(Client, Namespace, Node);

    public async Task InitializeAsync()
    {
        SkipReason = await ConnectAsync();
        if (SkipReason is not null)
            diagnostics.OnMessage(new DiagnosticMessage($"tests/e2e/Cluster skipped: {SkipReason}"));
    }

    private async Task<string?> ConnectAsync()
    {
        if (ClusterSettings.KubeConfig is not { } kubeConfig)
            return "KUBECONFIG is not set; these tests need a cluster whose nodes run crisp (tests/e2e/Cluster/README.md)";
        var file = kubeConfig.Split(':')[0];
        if (!File.Exists(file)) return $"KUBECONFIG names {file}, which does not exist";
        KubernetesClientConfiguration configuration;
        try
        {
            configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(file);
        }
        catch (KubeConfigException e)
        {
            return $"KUBECONFIG {file} does not load: {e.Message}";
        }
        _client = new Kubernetes(configuration);

        V1NodeList nodes;
        try
        {
            using var timeout = new CancellationTokenSource(ApiTimeout);
            nodes = await _client.CoreV1.ListNodeAsync(cancellationToken: timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or HttpOperationException or OperationCanceledException)
        {
            return $"the API server of {configuration.Host} (KUBECONFIG {file}) does not answer: {e.Message}";
        }
        var crispNodes = nodes.Items.Where(n => RunsCrisp(n) && IsReady(n)).ToList();
        _node = ClusterSettings.NodeName is { } wanted
            ? crispNodes.FirstOrDefault(n => n.Metadata.Name == wanted)
            : crispNodes.FirstOrDefault();
        if (_node is null)
        {
            var runtimes = string.Join(", ", nodes.Items.Select(n => $"{n.Metadata.Name}: {n.Status?.NodeInfo?.ContainerRuntimeVersion}, ready={IsReady(n)}"));
            var which = ClusterSettings.NodeName is { } name ? $"node {name} (CRISP_CLUSTER_NODE)" : "no Ready node";
            return $"{which} of {configuration.Host} runs crisp as its container runtime ({runtimes})";
        }

        await _client.CoreV1.CreateNamespaceAsync(new V1Namespace
        {
            Metadata = new V1ObjectMeta { Name = Namespace, Labels = new Dictionary<string, string> { ["crisp.e2e/suite"] = "cluster" } },
        });
        return null;
    }

    private static bool RunsCrisp(V1Node node) =>
        node.Status?.NodeInfo?.ContainerRuntimeVersion?.StartsWith("crisp://", StringComparison.Ordinal) == true;

    private static bool IsReady(V1Node node) =>
        node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    public async Task DisposeAsync()
    {
        if (_client is null) return;
        if (SkipReason is null)
            await _client.CoreV1.DeleteNamespaceAsync(Namespace, new V1DeleteOptions { PropagationPolicy = "Foreground" });
        _client.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
