"""The 153 English local authorities with adult and children's social services responsibilities
(as named on the CQC's and Ofsted's pages), as data for the benchmark corpus."""

from __future__ import annotations

LONDON = (
    "Barking and Dagenham", "Barnet", "Bexley", "Brent", "Bromley", "Camden", "City of London",
    "Croydon", "Ealing", "Enfield", "Greenwich", "Hackney", "Hammersmith and Fulham", "Haringey",
    "Harrow", "Havering", "Hillingdon", "Hounslow", "Islington", "Kensington and Chelsea",
    "Kingston upon Thames", "Lambeth", "Lewisham", "Merton", "Newham", "Redbridge",
    "Richmond upon Thames", "Southwark", "Sutton", "Tower Hamlets", "Waltham Forest",
    "Wandsworth", "Westminster",
)  # fmt: skip

METROPOLITAN = (
    "Barnsley", "Birmingham", "Bolton", "Bradford", "Bury", "Calderdale", "Coventry", "Doncaster",
    "Dudley", "Gateshead", "Kirklees", "Knowsley", "Leeds", "Liverpool", "Manchester",
    "Newcastle upon Tyne", "North Tyneside", "Oldham", "Rochdale", "Rotherham", "Salford",
    "Sandwell", "Sefton", "Sheffield", "Solihull", "South Tyneside", "St Helens", "Stockport",
    "Sunderland", "Tameside", "Trafford", "Wakefield", "Walsall", "Wigan", "Wirral",
    "Wolverhampton",
)  # fmt: skip

COUNTIES = (
    "Cambridgeshire", "Derbyshire", "Devon", "East Sussex", "Essex", "Gloucestershire",
    "Hampshire", "Hertfordshire", "Kent", "Lancashire", "Leicestershire", "Lincolnshire",
    "Norfolk", "Nottinghamshire", "Oxfordshire", "Staffordshire", "Suffolk", "Surrey",
    "Warwickshire", "West Sussex", "Worcestershire",
)  # fmt: skip

UNITARIES = (
    "Bath and North East Somerset", "Bedford", "Blackburn with Darwen", "Blackpool",
    "Bournemouth, Christchurch and Poole", "Bracknell Forest", "Brighton and Hove", "Bristol",
    "Buckinghamshire", "Central Bedfordshire", "Cheshire East", "Cheshire West and Chester",
    "Cornwall", "Cumberland", "Darlington", "Derby", "Dorset", "Durham",
    "East Riding of Yorkshire", "Halton", "Hartlepool", "Herefordshire", "Isle of Wight",
    "Isles of Scilly", "Kingston upon Hull", "Leicester", "Luton", "Medway", "Middlesbrough",
    "Milton Keynes", "North East Lincolnshire", "North Lincolnshire", "North Northamptonshire",
    "North Somerset", "North Yorkshire", "Northumberland", "Nottingham", "Peterborough",
    "Plymouth", "Portsmouth", "Reading", "Redcar and Cleveland", "Rutland", "Shropshire",
    "Slough", "Somerset", "South Gloucestershire", "Southampton", "Southend-on-Sea",
    "Stockton-on-Tees", "Stoke-on-Trent", "Swindon", "Telford and Wrekin", "Thurrock", "Torbay",
    "Warrington", "West Berkshire", "West Northamptonshire", "Westmorland and Furness",
    "Wiltshire", "Windsor and Maidenhead", "Wokingham", "York",
)  # fmt: skip

AUTHORITIES: tuple[str, ...] = LONDON + METROPOLITAN + COUNTIES + UNITARIES
