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

    [Fact]
    public void Pod_user_namespaces_are_unimplemented_not_ignored()
    {
        var config = Valid();
        config.Linux = new LinuxPodSandboxConfig
        {
            SecurityContext = new LinuxSandboxSecurityContext
            {
                NamespaceOptions = new NamespaceOption { UsernsOptions = new UserNamespace { Mode = NamespaceMode.Pod } },
            },
        };
        var ex = Assert.Throws<RuntimeException>(() => SandboxValidator.Validate(config));
        Assert.Equal(RuntimeErrorKind.Unimplemented, ex.Kind);
        Assert.Contains("userns_options", ex.Message);
    }
}
