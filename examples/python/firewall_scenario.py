"""The example scenario (examples/firewall-scenario.ts) in Python, through the package jsii builds.

``python firewall_scenario.py OUTDIR`` synthesizes the Docker example (examples/docker-stack.ts)
into OUTDIR; test/e2e/python-package.test.ts checks that its JSON equals the TypeScript one byte
for byte.
"""
import sys

from cdktf import App
from rapidclaw_agent_firewall import (
    AgentPlatform,
    AgentProps,
    RapidClawStack,
    RateLimitProps,
    RoleLimitsProps,
    RoleNetworkProps,
    RoleProps,
    ToolAccess,
    ToolKeyProps,
    ToolProps,
)


def firewall_scenario(platform: AgentPlatform) -> dict:
    """Six tools, two roles, two agents; only the platform differs between the examples."""
    return dict(
        platform=platform,
        model_hosts=["api.anthropic.com", "api.openai.com"],
        tools={
            "web_search": ToolProps(permissions=["search:read"], rate_limit=RateLimitProps(max_calls=20, window_sec=60), key=ToolKeyProps(rotation_hours=24)),
            "send_email": ToolProps(permissions=["email:send"], rate_limit=RateLimitProps(max_calls=5, window_sec=300), key=ToolKeyProps()),
            "database": ToolProps(permissions=["db:read"], rate_limit=RateLimitProps(max_calls=50, window_sec=60), key=ToolKeyProps()),
            "file_upload": ToolProps(permissions=["files:write"], rate_limit=RateLimitProps(max_calls=10, window_sec=60), key=ToolKeyProps()),
            "knowledge_base": ToolProps(),
            "ticket_system": ToolProps(),
        },
        roles={
            "customer_support": RoleProps(
                tools={
                    "knowledge_base": ToolAccess.READ,
                    "ticket_system": ToolAccess.WRITE,
                    "send_email": ToolAccess.EXECUTE,
                    "web_search": ToolAccess.DENY,
                    "file_upload": ToolAccess.DENY,
                },
                limits=RoleLimitsProps(max_tokens_per_task=20_000, max_tool_calls_per_task=50, max_concurrent_tasks=3),
                network=RoleNetworkProps(allow_egress=False),
            ),
            "research_agent": RoleProps(
                tools={
                    "web_search": ToolAccess.READ,
                    "database": ToolAccess.READ,
                    "knowledge_base": ToolAccess.READ,
                    "send_email": ToolAccess.DENY,
                },
                limits=RoleLimitsProps(max_tokens_per_task=100_000, max_tool_calls_per_task=200, max_concurrent_tasks=5),
                network=RoleNetworkProps(allow_egress=True, allowed_hosts=["*.google.com", "*.bing.com", "arxiv.org", "api.github.com"]),
            ),
        },
        agents=[
            AgentProps(name="openclaw-agent", image="openclaw/agent:latest", role="research_agent", memory="2G", cpus=1),
            AgentProps(name="hermes-agent", image="nousresearch/hermes-agent:latest", role="customer_support", memory="1G", cpus=0.5),
        ],
    )


if __name__ == "__main__":
    app = App(outdir=sys.argv[1])
    RapidClawStack(app, "agent-firewall", **firewall_scenario(AgentPlatform.DOCKER))
    app.synth()
