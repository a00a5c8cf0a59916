/**
 * The reference chat-box organisation of `pdl demo`: a website chat box (core infrastructure in the
 * Netherlands, plugins in Germany, an off-site backup in the United States) with the purposes, systems
 * and recipients of the reference story.
 */
export const DEMO_TENANT = {"name": "Chat box company", "residency": ["EEA"]};
export const DEMO_SYSTEMS = [
  {
    "id": "core",
    "name": "Core infrastructure",
    "country": "NL"
  },
  {
    "id": "plugins",
    "name": "Plugin infrastructure",
    "country": "DE"
  },
  {
    "id": "backup-us",
    "name": "Off-site backup",
    "country": "US"
  }
];
export const DEMO_RECIPIENTS = [
  {
    "id": "cloud-hosting",
    "name": "Cloud hosting provider",
    "kind": "processor",
    "country": "NL",
    "agreement": {
      "reference": "DPA-2021-001",
      "signedAt": "2021-05-01T00:00:00Z"
    }
  },
  {
    "id": "email-platform",
    "name": "E-mail delivery platform",
    "kind": "processor",
    "country": "IE",
    "agreement": {
      "reference": "DPA-2021-014",
      "signedAt": "2021-06-01T00:00:00Z"
    }
  },
  {
    "id": "ad-network",
    "name": "Advertising network",
    "kind": "controller",
    "country": "US"
  },
  {
    "id": "police-paris",
    "name": "Police judiciaire, Paris",
    "kind": "public-authority",
    "country": "FR"
  }
];
export const DEMO_PURPOSES = [
  {
    "id": "visitor-session",
    "title": "Keep the chat box session of a visitor",
    "legalBasis": "legitimate-interests",
    "categories": [
      "user.device.ip_address"
    ],
    "retention": {
      "period": "PT30M",
      "from": "last-activity"
    }
  },
  {
    "id": "session-cookie",
    "title": "Restore the chat box session across visits",
    "legalBasis": "legitimate-interests",
    "categories": [
      "user.device.cookie_id"
    ],
    "retention": {
      "period": "P6M",
      "from": "last-activity"
    }
  },
  {
    "id": "chat-messaging",
    "title": "Provide chat messaging",
    "legalBasis": "contract",
    "categories": [
      "user.device.ip_address",
      "user.device.cookie_id",
      "user.content.private",
      "user.contact.email",
      "user.name"
    ],
    "retention": {
      "period": null,
      "from": "collection"
    }
  },
  {
    "id": "ip-logging-law",
    "title": "Log IP addresses of chat users as required by French law",
    "legalBasis": "legal-obligation",
    "lawReference": "FR LCEN art. 6-II; decree 2011-219",
    "categories": [
      "user.device.ip_address"
    ],
    "retention": {
      "period": "P1Y",
      "from": "collection",
      "minimum": "P1Y"
    }
  },
  {
    "id": "anti-abuse",
    "title": "Protect the chat service against spam and botnets",
    "legalBasis": "legitimate-interests",
    "categories": [
      "user.device.ip_address"
    ],
    "retention": {
      "period": null,
      "from": "collection"
    }
  },
  {
    "id": "marketing",
    "title": "Marketing and follow-up",
    "legalBasis": "consent",
    "categories": [
      "user.contact.email",
      "user.name"
    ],
    "retention": {
      "period": "P3Y",
      "from": "last-activity"
    }
  },
  {
    "id": "statistics",
    "title": "Statistics on how visitors use the site",
    "legalBasis": "legitimate-interests",
    "categories": [
      "user.behavior.browsing_history",
      "user.device.cookie_id"
    ],
    "retention": {
      "period": "P13M",
      "from": "collection"
    }
  }
];
