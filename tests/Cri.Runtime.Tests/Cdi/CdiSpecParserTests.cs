using Crisp.Runtime.Cdi;
using Xunit;

namespace Crisp.Runtime.Tests.Cdi;

public sealed class CdiSpecParserTests
{
    public static TheoryData<string> Versions => new(CdiSpecParser.SupportedVersions);

    [Theory]
    [MemberData(nameof(Versions))]
    public void Every_supported_version_parses_in_JSON_and_YAML(string version)
    {
        var json = $$$"""{"cdiVersion":"{{{version}}}","kind":"vendor.com/gpu","devices":[{"name":"gpu0","containerEdits":{"env":["A=1"],"deviceNodes":[{"path":"/dev/gpu0","type":"c","major":1,"minor":3,"permissions":"rw"}]}}],"containerEdits":{"mounts":[{"hostPath":"/lib","containerPath":"/opt/lib","options":["ro","rbind"]}]}}""";
        var yaml = $"""
            cdiVersion: "{version}"
            kind: vendor.com/gpu
            devices:
              - name: gpu0
                containerEdits:
                  env: ["A=1"]
                  deviceNodes:
                    - path: /dev/gpu0
                      type: c
                      major: 1
                      minor: 3
                      permissions: rw
            containerEdits:
              mounts:
                - hostPath: /lib
                  containerPath: /opt/lib
                  options: [ro, rbind]
            """;
        foreach (var (path, text) in new[] { ("/etc/cdi/v.json", json), ("/etc/cdi/v.yaml", yaml) })
        {
            var spec = CdiSpecParser.Parse(path, text);
            Assert.Equal("vendor.com/gpu", spec.Kind);
            var node = Assert.Single(spec.Devices[0].ContainerEdits!.DeviceNodes!);
            Assert.Equal((1L, 3L, "rw"), (node.Major!.Value, node.Minor!.Value, node.Permissions));
            Assert.Equal(["ro", "rbind"], spec.ContainerEdits!.Mounts![0].Options!);
        }
    }

    [Fact]
    public void YAML_bare_numbers_become_names_and_octal_modes_are_read()
    {
        var spec = CdiSpecParser.Parse("/etc/cdi/n.yaml", """
            cdiVersion: 0.6.0
            kind: nvidia.com/gpu
            devices:
              - name: 0
                containerEdits:
                  deviceNodes:
                    - path: /dev/nvidia0
                      fileMode: 0666
            """);
        Assert.Equal("0", spec.Devices[0].Name);
        Assert.Equal(438u, spec.Devices[0].ContainerEdits!.DeviceNodes![0].FileMode);
    }

    [Theory]
    [InlineData("""{"cdiVersion":"0.2.0","kind":"v.com/c","devices":[{"name":"d"}]}""", "cdiVersion \"0.2.0\" is not supported")]
    [InlineData("""{"cdiVersion":"0.5.0","kind":"nokind","devices":[{"name":"d"}]}""", "kind \"nokind\"")]
    [InlineData("""{"cdiVersion":"0.5.0","kind":"v.com/c","devices":[]}""", "at least one device")]
    [InlineData("""{"cdiVersion":"0.5.0","kind":"v.com/c","devices":[{"name":"d","bogus":1}]}""", "not a valid CDI spec")]
    [InlineData("""{"cdiVersion":"0.5.0","kind":"v.com/c","devices":[{"name":"d"},{"name":"d"}]}""", "defined twice")]
    [InlineData("""{"cdiVersion":"0.5.0","kind":"v.com/c","annotations":{"a":"b"},"devices":[{"name":"d"}]}""", "annotations needs cdiVersion 0.6.0")]
    [InlineData("""{"cdiVersion":"0.4.0","kind":"v.com/c","devices":[{"name":"d","containerEdits":{"deviceNodes":[{"path":"/dev/x","hostPath":"/dev/null"}]}}]}""", "hostPath needs cdiVersion 0.5.0")]
    [InlineData("""{"cdiVersion":"0.3.0","kind":"v.com/c","devices":[{"name":"d","containerEdits":{"mounts":[{"hostPath":"/a","containerPath":"/b","type":"bind"}]}}]}""", "mounts[].type needs cdiVersion 0.4.0")]
    [InlineData("""{"cdiVersion":"0.6.0","kind":"v.com/c","devices":[{"name":"d","containerEdits":{"additionalGids":[5]}}]}""", "needs cdiVersion 0.7.0")]
    [InlineData("""{"cdiVersion":"0.5.0","kind":"v.com/c","devices":[{"name":"d","containerEdits":{"hooks":[{"hookName":"later","path":"/bin/true"}]}}]}""", "unknown hookName")]
    [InlineData("""{"cdiVersion":"0.5.0","kind":"v.com/c","devices":[{"name":"d","containerEdits":{"deviceNodes":[{"path":"dev/x"}]}}]}""", "not an absolute path")]
    [InlineData("""{"cdiVersion":"0.5.0","kind":"v.com/c","devices":[{"name":"d","containerEdits":{"env":["NOVALUE"]}}]}""", "is not NAME=value")]
    [InlineData("""{"cdiVersion":"0.5.0",""", "not a valid CDI spec")]
    public void Broken_files_are_refused_naming_the_file_and_the_reason(string json, string reason)
    {
        var error = Assert.Throws<CdiSpecException>(() => CdiSpecParser.Parse("/etc/cdi/broken.json", json));
        Assert.Contains("/etc/cdi/broken.json", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Broken_YAML_is_refused()
    {
        var error = Assert.Throws<CdiSpecException>(() => CdiSpecParser.Parse("/etc/cdi/b.yaml", "cdiVersion: [0.5.0\nkind: x"));
        Assert.Contains("not a valid CDI spec", error.Message);
    }
}
