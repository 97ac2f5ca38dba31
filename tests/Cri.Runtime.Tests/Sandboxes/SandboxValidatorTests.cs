using Xunit;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Sandboxes;

namespace Crisp.Runtime.Tests.Sandboxes;

public sealed class SandboxValidatorTests
{
    private static PodSandboxConfig Valid() => new()
    {
        Metadata = new PodSandboxMetadata { Name = "web", Namespace = "default", Uid = "1234" },
        LogDirectory = "/var/log/pods/default_web_1234",
    };

    [Fact]
    public void Accepts_a_complete_config() => SandboxValidator.Validate(Valid());

    [Theory]
    [InlineData("config.metadata")]
    [InlineData("config.metadata.name")]
    [InlineData("config.metadata.namespace")]
    [InlineData("config.metadata.uid")]
    [InlineData("config.log_directory")]
    public void Refuses_missing_or_bad_fields_by_name(string field)
    {
        var config = Valid();
        switch (field)
        {
            case "config.metadata": config.Metadata = null; break;
            case "config.metadata.name": config.Metadata.Name = ""; break;
            case "config.metadata.namespace": config.Metadata.Namespace = ""; break;
            case "config.metadata.uid": config.Metadata.Uid = "../x"; break;
            case "config.log_directory": config.LogDirectory = "relative/dir"; break;
        }
        var ex = Assert.Throws<RuntimeException>(() => SandboxValidator.Validate(config));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith(field + ":", ex.Message);
    }

    private static PodSandboxConfig WithUserNamespace(NamespaceOption? options = null)
    {
        var config = Valid();
        options ??= new NamespaceOption();
        options.UsernsOptions = Namespaces.UserNamespaceMappingsTests.Pod();
        config.Linux = new LinuxPodSandboxConfig { SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = options } };
        return config;
    }

    [Fact]
    public void A_pod_user_namespace_with_the_kubelets_mappings_is_accepted()
    {
        SandboxValidator.Validate(WithUserNamespace());
    }

    [Fact]
    public void A_pod_user_namespace_with_bad_mappings_is_refused_naming_the_field()
    {
        var config = WithUserNamespace();
        config.Linux.SecurityContext.NamespaceOptions.UsernsOptions.Uids[0].ContainerId = 1;
        var ex = Assert.Throws<RuntimeException>(() => SandboxValidator.Validate(config));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith("config.linux.security_context.namespace_options.userns_options.uids[0].container_id:", ex.Message);
    }

    [Theory]
    [InlineData("network")]
    [InlineData("ipc")]
    [InlineData("pid")]
    public void A_pod_user_namespace_cannot_share_the_hosts_other_namespaces(string kind)
    {
        var options = new NamespaceOption();
        if (kind == "network") options.Network = NamespaceMode.Node;
        if (kind == "ipc") options.Ipc = NamespaceMode.Node;
        if (kind == "pid") options.Pid = NamespaceMode.Node;
        var ex = Assert.Throws<RuntimeException>(() => SandboxValidator.Validate(WithUserNamespace(options)));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith($"config.linux.security_context.namespace_options.{kind}:", ex.Message);
    }

    [Fact]
    public void A_privileged_pod_cannot_have_a_user_namespace()
    {
        var config = WithUserNamespace();
        config.Linux.SecurityContext.Privileged = true;
        var ex = Assert.Throws<RuntimeException>(() => SandboxValidator.Validate(config));
        Assert.StartsWith("config.linux.security_context.privileged:", ex.Message);
    }
}
