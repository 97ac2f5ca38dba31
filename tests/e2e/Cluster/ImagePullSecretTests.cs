using k8s;
using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Xunit;

namespace Crisp.E2E.Cluster;

/// <summary>
/// An image pull secret reaches crisp's PullImage as auth: a private image pulls with the secret and is refused
/// without it. Needs a registry the nodes reach that requires credentials (CRISP_CLUSTER_PRIVATE_*).
/// </summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class ImagePullSecretTests(ClusterFixture cluster)
{
    private static string? MissingSettings() =>
        ClusterSettings.PrivateImage is null || ClusterSettings.PrivateRegistryUser is null || ClusterSettings.PrivateRegistryPassword is null
            ? "CRISP_CLUSTER_PRIVATE_IMAGE, CRISP_CLUSTER_PRIVATE_REGISTRY_USER and CRISP_CLUSTER_PRIVATE_REGISTRY_PASSWORD name no private image to pull"
            : null;

    private static string RegistryHost(string image) => image.Split('/')[0];

    private async Task<string> CreateSecretAsync(string image, string user, string password)
    {
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
        var dockerConfig = new JsonObject
        {
            ["auths"] = new JsonObject { [RegistryHost(image)] = new JsonObject { ["username"] = user, ["password"] = password, ["auth"] = auth } },
        };
        var secret = await cluster.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = $"pull-{Guid.NewGuid().ToString("N")[..8]}" },
            Type = "kubernetes.io/dockerconfigjson",
            Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = Encoding.UTF8.GetBytes(dockerConfig.ToJsonString()) },
        }, cluster.Namespace);
        return secret.Metadata.Name;
    }

    private V1Pod PrivatePod(string image)
    {
        var pod = cluster.Pods.Pod("private", new V1Container { Name = "main", Image = image, ImagePullPolicy = "Always", Command = ["sleep", "3600"] });
        return pod;
    }

    [SkippableFact]
    public async Task A_private_image_pulls_with_the_pods_image_pull_secret_and_not_without_it()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);
        Skip.If(MissingSettings() is not null, MissingSettings());
        var image = ClusterSettings.PrivateImage!;
        var secret = await CreateSecretAsync(image, ClusterSettings.PrivateRegistryUser!, ClusterSettings.PrivateRegistryPassword!);

        var withSecret = PrivatePod(image);
        withSecret.Spec.ImagePullSecrets = [new V1LocalObjectReference { Name = secret }];
        var running = await cluster.Pods.RunAsync(withSecret);
        var withoutSecret = await cluster.Pods.CreateAsync(PrivatePod(image));
        var refused = await cluster.Pods.WaitAsync(withoutSecret.Metadata.Name, "refused its image",
            p => p.Status?.ContainerStatuses?.Any(c => c.State?.Waiting?.Reason is "ErrImagePull" or "ImagePullBackOff") == true);

        Assert.Equal(image, running.Spec.Containers[0].Image);
        Assert.Equal("Pending", refused.Status.Phase);
    }
}
