using k8s;
using k8s.Models;
using Xunit;

namespace Crisp.Chart.Tests;

/// <summary>charts/crisp through helm: lint, render with default and custom values, and every object loaded as its typed model.</summary>
public sealed class ChartRenderTests
{
    private static async Task<List<object>> RenderAsync(params string[] arguments) =>
        KubernetesYaml.LoadAllFromString(await Helm.TemplateAsync(arguments));

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Helm_lint_passes(bool customValues)
    {
        Skip.IfNot(Helm.Available, Helm.NotAvailable);

        var (exitCode, stdout, stderr) = customValues
            ? await Helm.RunAsync("lint", "--strict", ChartPaths.Chart, "--values", ChartPaths.CustomValues)
            : await Helm.RunAsync("lint", "--strict", ChartPaths.Chart);

        Assert.True(exitCode == 0, stdout + stderr);
    }

    [SkippableFact]
    public async Task Defaults_render_a_privileged_host_pid_installer_on_every_linux_node_and_no_runtime_class()
    {
        Skip.IfNot(Helm.Available, Helm.NotAvailable);

        var objects = await RenderAsync();

        Assert.Equal(["V1ConfigMap", "V1DaemonSet"], objects.Select(o => o.GetType().Name).Order(StringComparer.Ordinal));
        var daemonSet = objects.OfType<V1DaemonSet>().Single();
        var pod = daemonSet.Spec.Template.Spec;
        Assert.Equal("crisp-system", daemonSet.Metadata.NamespaceProperty);
        Assert.True(pod.HostPID);
        Assert.Equal("linux", pod.NodeSelector["kubernetes.io/os"]);
        Assert.Equal("Exists", Assert.Single(pod.Tolerations).OperatorProperty);
        Assert.Equal("system-node-critical", pod.PriorityClassName);
        var installer = Assert.Single(pod.Containers);
        Assert.True(installer.SecurityContext.Privileged);
        Assert.Equal("crisp-deploy:0.1.0", installer.Image);
        Assert.Contains("/crisp-deploy/deploy.sh install", string.Join(' ', installer.Command));
        Assert.Equal(["bash", "/crisp-deploy/deploy.sh", "uninstall"], installer.Lifecycle.PreStop.Exec.Command);
        Assert.Equal(["bash", "-c", "test -f /tmp/crisp-installed && test -S /host/run/crisp/crisp.sock"], installer.ReadinessProbe.Exec.Command);
        Assert.Equal("/usr/local", installer.Env.Single(e => e.Name == "PREFIX").Value);
        Assert.Equal("true", installer.Env.Single(e => e.Name == "ENABLE_SERVICE").Value);
        Assert.Equal("true", installer.Env.Single(e => e.Name == "CLEANUP_ON_DELETE").Value);

        var host = pod.Volumes.Single(v => v.Name == "host");
        Assert.Equal("/", host.HostPath.Path);
        Assert.Equal("/host", installer.VolumeMounts.Single(m => m.Name == "host").MountPath);
        var deploy = pod.Volumes.Single(v => v.Name == "deploy");
        var configMap = objects.OfType<V1ConfigMap>().Single();
        Assert.Equal(configMap.Metadata.Name, deploy.ConfigMap.Name);
        Assert.Equal(["deploy.sh"], configMap.Data.Keys);
        Assert.Equal(File.ReadAllText(Path.Combine(ChartPaths.Chart, "files", "deploy.sh")), configMap.Data["deploy.sh"]);
    }

    /// <summary>
    /// A rolling update must not uninstall crisp from the node (a kubelet using crisp would lose its runtime): the new
    /// installer starts first and the old one stops only once the new one is ready, the old one's preStop then finds
    /// the node claimed by the new pod's UID (files/deploy.sh, exercised by <see cref="DeployScriptTests"/>).
    /// </summary>
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_rolling_update_starts_the_new_installer_before_the_old_ones_preStop_runs(bool customValues)
    {
        Skip.IfNot(Helm.Available, Helm.NotAvailable);

        var objects = customValues ? await RenderAsync("--values", ChartPaths.CustomValues) : await RenderAsync();

        var daemonSet = objects.OfType<V1DaemonSet>().Single();
        Assert.Equal("RollingUpdate", daemonSet.Spec.UpdateStrategy.Type);
        Assert.Equal("1", daemonSet.Spec.UpdateStrategy.RollingUpdate.MaxSurge.Value);
        Assert.Equal("0", daemonSet.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.Value);
        var installer = Assert.Single(daemonSet.Spec.Template.Spec.Containers);
        Assert.Equal("metadata.uid", installer.Env.Single(e => e.Name == "POD_UID").ValueFrom.FieldRef.FieldPath);
        // Ready only after this pod's own install: until then the old installer keeps running.
        Assert.Contains("test -f /tmp/crisp-installed", string.Join(' ', installer.ReadinessProbe.Exec.Command));
        Assert.Equal(["bash", "/crisp-deploy/deploy.sh", "uninstall"], installer.Lifecycle.PreStop.Exec.Command);
    }

    [SkippableFact]
    public async Task Custom_values_reach_the_objects_and_create_runtime_classes_for_crisps_handlers()
    {
        Skip.IfNot(Helm.Available, Helm.NotAvailable);

        var objects = await RenderAsync("--values", ChartPaths.CustomValues);

        var daemonSet = objects.OfType<V1DaemonSet>().Single();
        var pod = daemonSet.Spec.Template.Spec;
        var installer = Assert.Single(pod.Containers);
        Assert.Equal("registry.example.test/crisp-deploy:9.9.9", installer.Image);
        Assert.Equal("Always", installer.ImagePullPolicy);
        Assert.Equal("true", pod.NodeSelector["crisp.io/runtime"]);
        Assert.Equal("dedicated", Assert.Single(pod.Tolerations).Key);
        Assert.Null(pod.PriorityClassName);
        Assert.Equal("/usr", installer.Env.Single(e => e.Name == "PREFIX").Value);
        Assert.Equal("false", installer.Env.Single(e => e.Name == "ENABLE_SERVICE").Value);
        Assert.Equal("false", installer.Env.Single(e => e.Name == "CLEANUP_ON_DELETE").Value);
        Assert.Equal(["test", "-f", "/tmp/crisp-installed"], installer.ReadinessProbe.Exec.Command);

        var configMap = objects.OfType<V1ConfigMap>().Single();
        Assert.Contains("write_default_cni_config = true", configMap.Data["crisp.toml"]);

        var runtimeClasses = objects.OfType<V1RuntimeClass>().ToList();
        Assert.Equal(["crun", "runc"], runtimeClasses.Select(r => r.Handler).Order(StringComparer.Ordinal));
        Assert.All(runtimeClasses, r =>
        {
            Assert.Equal("crisp-" + r.Handler, r.Metadata.Name);
            Assert.Equal("true", r.Scheduling.NodeSelector["crisp.io/runtime"]);
            Assert.Equal("dedicated", Assert.Single(r.Scheduling.Tolerations).Key);
        });
    }

    [SkippableFact]
    public async Task A_changed_config_rolls_the_installer()
    {
        Skip.IfNot(Helm.Available, Helm.NotAvailable);

        static string Checksum(List<object> objects) =>
            objects.OfType<V1DaemonSet>().Single().Spec.Template.Metadata.Annotations["checksum/deploy"];

        var first = Checksum(await RenderAsync("--set-string", "config=log_level = \"info\""));
        var second = Checksum(await RenderAsync("--set-string", "config=log_level = \"debug\""));

        Assert.NotEqual(first, second);
    }
}
