using System.Text;
using Crisp.Cri.V1;
using Crisp.ImageService.Api;

namespace Crisp.Runtime.Oci;

/// <summary>Image ENV overridden by the pod's env, keeping first-seen order; PATH and HOSTNAME as containerd sets them.</summary>
internal static class ProcessEnvironment
{
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static List<string> Build(ContainerConfig config, ImageConfig image, string hostname)
    {
        var order = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);

        void Set(string key, string value)
        {
            if (!values.ContainsKey(key)) order.Add(key);
            values[key] = value;
        }

        // HOSTNAME comes first so that an image or pod that sets it explicitly still wins.
        Set("HOSTNAME", hostname);
        foreach (var entry in image.Env)
        {
            var eq = entry.IndexOf('=');
            if (eq <= 0) continue;
            Set(entry[..eq], entry[(eq + 1)..]);
        }
        if (!values.ContainsKey("PATH")) Set("PATH", DefaultPath);
        foreach (var kv in config.Envs)
        {
            if (string.IsNullOrEmpty(kv.Key)) continue;
            Set(kv.Key, Encoding.UTF8.GetString(kv.Value.Span));
        }

        return order.Select(k => $"{k}={values[k]}").ToList();
    }
}
