using Crisp.ImageService;
using Crisp.ImageService.Api;
using Crisp.Runtime;
using Crisp.Runtime.Api;
using Crisp.Runtime.Network;
using Crisp.Server.Config;
using Crisp.Server.Hosting.Http2;
using Crisp.Server.Limits;
using Crisp.Server.Services.Image;
using Crisp.Server.Services.Runtime;
using Crisp.Server.Streaming;
using Crisp.Server.Telemetry;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Crisp.Server.Hosting;

/// <summary>Wires the daemon: Kestrel on the unix socket, gRPC services, telemetry and the two libraries.</summary>
public static class DaemonHost
{
    public static WebApplication Build(CrispConfig config, CommandLine commandLine, SystemdReadiness readiness, SighupSignal sighup)
    {
        // Our own flags were already parsed; do not let the host reinterpret them.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        // The level is a switch SIGHUP may turn; the factory's own minimum stays open so the filter decides.
        var logLevel = new LogLevelSwitch(LogLevelSwitch.Parse(config.LogLevel));
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddFilter((_, _, level) => logLevel.IsEnabled(level));
        // Kestrel and routing chatter is noise at info; keep our own categories at the configured level.
        builder.Logging.AddFilter("Microsoft.AspNetCore", level => level >= LogLevel.Warning && logLevel.IsEnabled(level));
        builder.Logging.AddFilter("Microsoft.Hosting", level => level >= LogLevel.Information && logLevel.IsEnabled(level));

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(config.GrpcSocket, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                var rewriteLogger = listen.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(UnixAuthorityMiddleware));
                listen.Use(next => UnixAuthorityMiddleware.Wrap(next, rewriteLogger));
            });
            // The streaming server (exec/attach/port-forward): plain HTTP/1.1, upgraded per connection.
            var streaming = StreamingListenAddress.Parse(config.StreamingAddress);
            kestrel.Listen(System.Net.IPAddress.Parse(streaming.Host), streaming.Port, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Limits.MaxRequestBodySize = config.GrpcMaxMessageBytes;
            // The :authority rewrite in front of Kestrel holds and decodes no more than Kestrel accepts: same values.
            kestrel.Limits.MaxRequestHeadersTotalSize = ClientLimits.Http2MaxHeaderListBytes;
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = ClientLimits.Http2MaxHeaderFieldBytes;
            kestrel.Limits.Http2.MaxFrameSize = ClientLimits.Http2MaxFrameBytes;
            kestrel.Limits.Http2.HeaderTableSize = ClientLimits.Http2HeaderTableBytes;
            kestrel.AddServerHeader = false;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(config.GrpcShutdownTimeoutSeconds));

        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = (int)config.GrpcMaxMessageBytes;
            grpc.MaxSendMessageSize = (int)config.GrpcMaxMessageBytes;
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<RpcInterceptor>();
        });

        AddTelemetry(builder.Services, config);

        builder.Services.AddSingleton(new DaemonContext(config));
        builder.Services.AddSingleton(logLevel);
        builder.Services.AddSingleton(commandLine);
        builder.Services.AddSingleton(readiness);
        builder.Services.AddSingleton(sighup);
        builder.Services.AddHostedService<ReloadOnSighup>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<StreamingRequestCache>();
        builder.Services.AddSingleton(StreamingListenAddress.Parse(config.StreamingAddress));
        builder.Services.AddSingleton<StreamingServer>();
        builder.Services.AddSingleton<StreamingEndpoint>();
        builder.Services.AddCrispImageService(ImageOptions(config));
        builder.Services.AddCrispRuntime(RuntimeOptions(config));

        var app = builder.Build();
        if (config.NetworkWriteDefaultCniConfig)
        {
            var written = DefaultCniConfig.WriteIfMissing(config.NetworkCniConfDir);
            if (written is not null)
                app.Logger.LogInformation("No CNI config in {CniConfDir}: wrote the default bridge network {File}", config.NetworkCniConfDir, written);
        }
        app.UseWebSockets();
        app.Use(async (context, next) =>
        {
            if (StreamingEndpoint.Matches(context.Request.Path))
                await context.RequestServices.GetRequiredService<StreamingEndpoint>().HandleAsync(context);
            else
                await next(context);
        });
        app.MapGrpcService<CrispRuntimeService>();
        app.MapGrpcService<CrispImageService>();
        return app;
    }

    private static void AddTelemetry(IServiceCollection services, CrispConfig config)
    {
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("crisp", serviceVersion: DaemonVersion.Version));
        var otlp = config.TracingOtlpEndpoint;

        otel.WithTracing(tracing =>
        {
            tracing.AddSource(CrispTelemetry.Name);
            if (otlp.Length > 0) tracing.AddOtlpExporter(o => o.Endpoint = new Uri(otlp));
        });
        otel.WithMetrics(metrics =>
        {
            metrics.AddMeter(CrispTelemetry.Name);
            if (config.MetricsPrometheusAddress.Length > 0)
            {
                var address = config.MetricsPrometheusAddress;
                var colon = address.LastIndexOf(':');
                metrics.AddPrometheusHttpListener(o =>
                {
                    o.Host = address[..colon];
                    o.Port = int.Parse(address[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                });
            }
            if (otlp.Length > 0) metrics.AddOtlpExporter(o => o.Endpoint = new Uri(otlp));
        });
    }

    private static ImageServiceOptions ImageOptions(CrispConfig config) => new()
    {
        Root = Path.Combine(config.Root, "images"),
        RegistriesConfPath = config.ImageRegistriesConf,
        RegistriesConfDir = config.ImageRegistriesConfDir,
        MaxConcurrentDownloads = (int)config.ImageMaxConcurrentDownloads,
        PullProgressTimeout = TimeSpan.FromSeconds(config.ImagePullProgressTimeoutSeconds),
        PinnedImages = config.ImagePinnedImages,
    };

    internal static RuntimeOptions RuntimeOptions(CrispConfig config) => new()
    {
        Root = config.Root,
        StateDir = config.StateDir,
        DefaultHandler = config.RuntimeDefaultHandler,
        Handlers = config.RuntimeHandlers
            .Select(h => new RuntimeHandlerOptions { Name = h.Name, Path = h.Path, Root = h.Root })
            .ToList(),
        CgroupDriver = config.RuntimeCgroupDriver,
        ConmonPath = config.RuntimeConmonPath,
        AllowedAnnotations = config.RuntimeAllowedAnnotations,
        CniConfDir = config.NetworkCniConfDir,
        CniBinDirs = config.NetworkCniBinDirs,
        CniWriteDefaultConfig = config.NetworkWriteDefaultCniConfig,
        MaxResponseBytes = config.GrpcMaxMessageBytes,
        EnableCdi = config.RuntimeEnableCdi,
        CdiSpecDirs = config.RuntimeCdiSpecDirs,
    };
}
